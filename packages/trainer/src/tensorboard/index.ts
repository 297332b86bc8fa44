export { TensorBoardCollector, type TensorBoardCollectorOptions } from './collector.ts';
export { EventDecodeError, EventDecoder, type SummaryPoint } from './event-decoder.ts';
export type { Histogram } from './histogram.ts';
export { type DistributionStats, histogramStats } from './histogram-stats.ts';
export { RecordFileReader, type TfRecord, TfRecordError } from './record-reader.ts';
export { TagMap, TagMapError } from './tag-map.ts';
