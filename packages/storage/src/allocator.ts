// Embedded ClickHouse brings its own jemalloc, which keeps freed pages for 5 s by default: under
// steady inserts that is ~80 MB of resident memory nobody uses. Returning them after 300 ms cut
// the ingest benchmark's peak RSS by ~60 MB for ~5% more CPU per event (0 ms: ~30 MB less again,
// for 20% more). Pages are given back at once rather than lazily (muzzy_decay_ms:0: lazily freed
// pages stay in RSS until the kernel is short of memory), and by jemalloc's own thread even in
// an arena no statement uses any more (background_thread): in the soak the stack's RSS went on
// rising without them (789 -> 917 MB from minute 9 to 12, V8's heap and ClickHouse's tracked
// memory flat) and stayed at 765-818 MB from minute 4 to 12 with them. Read once, when chdb's
// library loads, so this module is imported before chdb; an operator's own JE_MALLOC_CONF wins.
process.env.JE_MALLOC_CONF ??= 'dirty_decay_ms:300,muzzy_decay_ms:0,background_thread:true';
