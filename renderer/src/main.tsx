import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { installBridgeClient } from './api/bridge-client';
import { App } from './App';
import './styles.css';

installBridgeClient();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
