// Subscribes the listeners (notifications, reporting, auto-assignment …) to the event bus.
import type { Services } from '../services.ts';

export function registerListeners(_services: Services): void {}
