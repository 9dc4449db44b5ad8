import { create } from 'zustand';
import type { AppInfo } from '../../../electron/api/schemas';
import { errorMessage, mome } from '../api/mome';
import { useToasts } from './toasts';

interface AppState {
  info: AppInfo | null;
  load(): Promise<void>;
}

export const useApp = create<AppState>((set) => ({
  info: null,
  load: async () => {
    try {
      set({ info: await mome().getAppInfo({}) });
    } catch (e) {
      useToasts.getState().push(`Could not reach the backend: ${errorMessage(e)}`);
    }
  },
}));
