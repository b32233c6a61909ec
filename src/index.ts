/**
 * The library entry (`import { CircuitBreaker } from "upkeep"`). Only light modules load here: the
 * breaker, its pure core and the state store; the CLI, schemas and handlers never do.
 */
export { CircuitBreaker, BreakerOpenError } from "./circuit-breaker.js";
export type { CircuitBreakerOptions, BreakerSnapshot } from "./circuit-breaker.js";
export { UpkeepError, isUpkeepError } from "./errors.js";
export type { ErrorCode } from "./errors.js";
export type { BreakerStateName } from "./core/facts.js";
/** Plugin authors: the handler shape upkeep expects from a module named in `runtime.plugins`. */
export type {
  ProbeHandler,
  StepHandler,
  ChannelHandler,
  Handler,
  HandlerContext,
  ProbeResult,
  StepResult,
  ChannelResult,
  Notification,
  AlertEvent,
} from "./actions/types.js";
