export { findOrBuildTemporalServer, TEMPORAL_SERVER_VERSION, TEMPORAL_SERVER_MODULES, POSTGRES_SCHEMA_SUBDIR } from './build';
export type { TemporalServerBinaries } from './build';
export { TEMPORAL_STORES, schemaCommands, pgEndpoint } from './schema';
export { TemporalServer, type TemporalServerOptions } from './server';
