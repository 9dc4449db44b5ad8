// The search methods of the API. The search service (and with it ONNX Runtime) loads on the first query,
// so starting the app does not need it.
import type { Handlers } from '../api/dispatch';
import type { Db } from '../store/db';
import type { JobService } from '../jobs/service';
import type { ModelRegistry } from '../models/registry';
import type { SearchService } from './service';

export function searchHandlers(deps: {
  db: Db;
  jobs: JobService;
  registry: ModelRegistry;
  cacheDir: string;
  defaultModelDir: () => string | null;
}): { handlers: Pick<Handlers, 'searchImages'>; close(): Promise<void> } {
  let service: Promise<SearchService> | null = null;
  const get = () => (service ??= import('./service').then((m) => new m.SearchService(deps)));
  return {
    handlers: { searchImages: async (args) => (await get()).search(args) },
    close: async () => {
      if (service) await (await service).close();
    },
  };
}
