export async function nap({ms}) { await new Promise(r => setTimeout(r, ms)); return "ok" }
