export { type AppDeps, createApp, MAX_BODY_BYTES } from './http/app.ts';
export { type Daemon, type DaemonOptions, startDaemon } from './daemon.ts';
export { LeaderboardHub } from './live/hub.ts';
export { DaemonMetrics } from './ops/metrics.ts';
export { pinoLogger } from './ops/log.ts';
export { bestConfig, type BestConfig, renderBestConfig, EXPORT_FORMATS, type ExportFormat } from './views/export.ts';
export { leaderboard, type LeaderboardRow } from './views/leaderboard.ts';
