export { createStorage, wrapClient, type Storage, type QueryParams } from './client.ts';
export { migrate, loadMigrations, type Migration } from './migrate.ts';
