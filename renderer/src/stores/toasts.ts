import { create } from 'zustand';
import { errorMessage } from '../api/mome';

interface Toast {
  id: number;
  text: string;
  tone: 'error' | 'info';
}
interface ToastState {
  toasts: Toast[];
  push(text: string, tone?: Toast['tone']): void;
  dismiss(id: number): void;
}

let next = 1;
export const useToasts = create<ToastState>((set, get) => ({
  toasts: [],
  push: (text, tone = 'error') => {
    const id = next++;
    set({ toasts: [...get().toasts, { id, text, tone }].slice(-4) });
    setTimeout(() => get().dismiss(id), tone === 'error' ? 10_000 : 4000);
  },
  dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
}));

/** What went wrong, as an error toast: the one way a failed call is shown when no view has a place for it. */
export const toastError = (e: unknown) => useToasts.getState().push(errorMessage(e));
