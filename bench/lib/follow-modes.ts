// The ways bench/lib/live-follower.ts can make its blocking reloads, each adding one layer to the
// one before, and the simplest live copy (see that file).
export const FOLLOW_MODES = ['idle', 'http', 'undici', 'client', 'loader', 'copy'] as const;
export type FollowMode = (typeof FOLLOW_MODES)[number];
