import { ProbotOctokit } from "probot";

/**
 * Probot's Octokit without retries and without the throttling plugin (whose write limiter spaces
 * POST/PATCH calls a second apart, as GitHub asks of production apps): tests and benchmarks then
 * measure jitsudo, not the politeness delay. Probot passes its own throttle options per instance,
 * so `enabled: false` must be applied last, in a function default.
 */
export const UnthrottledOctokit = ProbotOctokit.defaults((options: { throttle?: object; [option: string]: unknown }) => ({
  ...options,
  retry: { enabled: false },
  throttle: { ...options.throttle, enabled: false },
}));
