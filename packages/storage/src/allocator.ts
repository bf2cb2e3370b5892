// Embedded ClickHouse brings its own jemalloc, which keeps freed pages for 5 s by default: under
// steady inserts that is ~100 MB of resident memory nobody uses. Returning them at once costs a
// little CPU per insert. Read once, when chdb's library loads, so this module is imported before
// chdb; an operator's own JE_MALLOC_CONF wins.
process.env.JE_MALLOC_CONF ??= 'dirty_decay_ms:1000';
