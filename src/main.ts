import { mount } from 'svelte';
import App from './App.svelte';
import { app } from './lib/app-state.svelte';
import { registerServiceWorker } from './lib/sw-register';
import './app.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const app_ = mount(App, { target });

// Offline cache, and threads on hosts that cannot send COOP/COEP (public/sw.js). Never reloads mid-work.
registerServiceWorker({ canReload: () => !app.busy && app.modelLoad === null });

export default app_;
