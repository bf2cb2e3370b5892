// Embedded ClickHouse brings its own jemalloc, which keeps freed pages for 5 s by default: under
// steady inserts that is ~80 MB of resident memory nobody uses. Returning them after 300 ms cut
// the ingest benchmark's peak RSS by ~60 MB for ~5% more CPU per event (0 ms: ~30 MB less again,
// for 20% more). Read once, when chdb's library loads, so this module is imported before chdb;
// an operator's own JE_MALLOC_CONF wins.
process.env.JE_MALLOC_CONF ??= 'dirty_decay_ms:300';
