export { createApp, type AppDeps, MAX_BODY_BYTES } from './http/app.ts';
export { type Daemon, type DaemonOptions, startDaemon } from './daemon.ts';
export { bestConfig, type BestConfig, renderBestConfig, EXPORT_FORMATS, type ExportFormat } from './views/export.ts';
export { leaderboard, type LeaderboardRow } from './views/leaderboard.ts';
