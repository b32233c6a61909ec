/**
 * The library entry (`import { CircuitBreaker } from "upkeep"`). Only light modules load here: the
 * breaker, its pure core and the state store; the CLI, schemas and handlers never do.
 */
export { CircuitBreaker, BreakerOpenError } from "./circuit-breaker.js";
export type { CircuitBreakerOptions, BreakerSnapshot } from "./circuit-breaker.js";
export { UpkeepError, isUpkeepError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type { BreakerStateName } from "./core/facts.js";
