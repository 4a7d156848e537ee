// One process 'exit' hook for every open store and event log: whatever is still unwritten when pi exits is written
// synchronously, lock holders first.
export interface ExitFlushParticipant {
  hasPendingWork(): boolean;
  holdsLock(): boolean;
  flushSync(): void;
}
type ExitRegistry = { participants: Set<ExitFlushParticipant>; heldLocks: Map<string, object>; exiting: boolean };
// On globalThis so that two copies of this module (e.g. loaded from two paths) still install one hook between them.
const EXIT_REGISTRY_KEY = Symbol.for("pi-auto-router.state.exit-registry");

export function exitRegistry(): ExitRegistry {
  const holder = globalThis as unknown as Record<symbol, ExitRegistry | undefined>;
  const existing = holder[EXIT_REGISTRY_KEY];
  if (existing) return existing;
  const registry: ExitRegistry = { participants: new Set(), heldLocks: new Map(), exiting: false };
  holder[EXIT_REGISTRY_KEY] = registry;
  process.on("exit", () => {
    registry.exiting = true;
    // Whoever holds a lock (an async flush interrupted by process.exit) goes first and releases it for the others.
    const ordered = [...registry.participants].sort(
      (left, right) => Number(right.holdsLock()) - Number(left.holdsLock()),
    );
    for (const participant of ordered) {
      try {
        if (participant.hasPendingWork()) participant.flushSync();
      } catch {
        // The process is exiting; there is nobody left to tell.
      }
    }
  });
  return registry;
}

export function registerExitFlush(participant: ExitFlushParticipant): () => void {
  const { participants } = exitRegistry();
  participants.add(participant);
  return () => participants.delete(participant);
}
