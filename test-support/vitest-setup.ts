import fc from 'fast-check';

// A property that fails can shrink for a very long time; fail it after 20 s instead of stalling CI.
fc.configureGlobal({ interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true });
