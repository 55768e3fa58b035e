// What every bench backend answers, and what the load generator expects back
// through each proxy (a response with any other body counts as a mismatch).
export const BODY = 'Hello from backend!\n';
