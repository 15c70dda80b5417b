// The server's asset-management API, with the bearer token the settings dialog keeps.
import { storage } from './dom.js';

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = storage.get('apiToken');
  if (token) headers.Authorization = 'Bearer ' + token;
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new Error('The server cannot be reached.');
  }
  let json = null;
  try { json = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) throw new Error((json && (json.detail || json.error || json.message)) || `HTTP ${resp.status}`);
  return json;
}
