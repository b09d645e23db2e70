// Types of "jwtedge/workers": the same API as the main entry (jwtedge.d.ts), already initialised.
export * from "./jwtedge.js";
export { default } from "./jwtedge.js";
