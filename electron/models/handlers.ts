// The model methods of MomeApi: the registry (list, card, import, activate, remove), the device inference runs
// on, and the Python interpreter fine-tunes and conversions use.
import path from 'node:path';
import type { Handlers } from '../api/dispatch';
import type { EventHub } from '../api/events';
import type { JobService } from '../jobs/service';
import type { Db } from '../store/db';
import { modelCard } from './card';
import { pythonSetting } from './python-setting';
import type { ModelRegistry } from './registry';

type ModelHandlers = Pick<
  Handlers,
  | 'listModels'
  | 'getModelCard'
  | 'setModelDevice'
  | 'listPythonInterpreters'
  | 'setPythonInterpreter'
  | 'startModelImport'
  | 'setActiveModel'
  | 'removeModel'
>;

export function modelHandlers(deps: { db: Db; models: ModelRegistry; jobs: JobService; events: EventHub }): {
  handlers: ModelHandlers;
  close(): void;
} {
  const { db, models, jobs, events } = deps;
  const changed = (id: number) => events.emit('dataChanged', { entity: 'models', id });
  const python = pythonSetting(db); // the interpreter the user chose (MOME_PYTHON still wins)
  const handlers: ModelHandlers = {
    listModels: ({ includeRemoved }) => models.list(includeRemoved),
    getModelCard: ({ id }) => modelCard(db, models, id),
    setModelDevice: ({ device }) => {
      models.setDevice(device);
      events.emit('dataChanged', { entity: 'models' });
      return models.providerFor();
    },
    ...python.handlers,
    startModelImport: ({ path: source, vocab }) =>
      jobs.start('model-import', `Import model ${path.basename(source)}`, { path: source, vocab }, async (ctx) => {
        const m = await models.import(source, ctx, vocab);
        changed(m.id);
        return m;
      }),
    setActiveModel: ({ id }) => {
      const m = models.setActive(id);
      changed(id);
      return m;
    },
    removeModel: ({ id }) => {
      models.remove(id);
      changed(id);
      return { removed: true };
    },
  };
  return { handlers, close: () => python.close() };
}
