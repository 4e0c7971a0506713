// Routing for the Vertex AI side of the emulator: publisher-model generate and get (project/location and Express
// forms), and the GCE metadata server. The generate work itself is the Gemini handler's; only auth, the
// project-level refusals, the dynamic-shared-quota overload and the error shapes differ.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';
import { sendJson } from './http.ts';
import type { GenerateMethod } from './interactive.ts';
import { handleGenerate } from './interactive.ts';
import { handleMetadata, isMetadataPath } from './metadata.ts';
import type { EmulatorState } from './state.ts';
import { checkProject, checkRoles, publisherModelNotFound, vertexResourceExhausted, vertexTarget } from './vertex.ts';
import type { VertexTarget } from './vertex.ts';

export interface VertexRoute {
  name: string;
  /** These routes check their own credentials (bearer token, Express key, Metadata-Flavor). */
  noAuth: true;
  run: () => Promise<void> | void;
}

/** A Vertex publisher model, in the fields Vertex's models.get returns that a client may read. */
function publisherModel(id: string) {
  return { name: `publishers/google/models/${id}`, versionId: '001', openSourceCategory: 'PROPRIETARY', launchStage: 'GA' };
}

async function generate(st: EmulatorState, req: IncomingMessage, res: ServerResponse, t: VertexTarget, method: GenerateMethod, v: string): Promise<void> {
  const o = st.options.vertex.overload;
  // Dynamic shared quota: Vertex refuses work above the capacity it has for you right now, without a RetryInfo.
  if (o && st.counters.inFlight >= o.concurrency && st.overloadRng.next() < o.probability) {
    st.counters.fault('vertexOverload');
    throw vertexResourceExhausted();
  }
  try {
    await handleGenerate(st, req, res, t.model, method, v, checkRoles);
  } catch (e) {
    // Vertex has no QuotaFailure/RetryInfo answer and names models its own way.
    if (e instanceof HttpError && e.httpStatus === 429) throw vertexResourceExhausted();
    if (e instanceof HttpError && e.httpStatus === 404) throw publisherModelNotFound(t);
    throw e;
  }
}

/** The route for a Vertex or metadata path, or undefined when the path is neither. */
export function vertexRoute(st: EmulatorState, req: IncomingMessage, res: ServerResponse, url: URL, seg: string[], isVersion: (s: string | undefined) => boolean): VertexRoute | undefined {
  if (isMetadataPath(url.pathname)) {
    return { name: 'metadata', noAuth: true, run: () => void handleMetadata(req, res, url, st.vertexAuth, st.options.vertex.metadataProject) };
  }
  if (!isVersion(seg[0])) return undefined;
  const t = vertexTarget(seg.slice(1));
  if (!t) return undefined;
  const m = req.method ?? 'GET';
  const guard = () => {
    const denied = st.vertexAuth.check(req, url, t) ?? checkProject(st.options.vertex, t);
    if (denied) throw denied;
  };
  if (t.method === undefined && m === 'GET') {
    return {
      name: 'vertexModelsGet',
      noAuth: true,
      run: () => {
        guard();
        if (!st.knownModel(t.model)) throw publisherModelNotFound(t);
        sendJson(res, 200, publisherModel(t.model));
      },
    };
  }
  if (m === 'POST' && (t.method === 'generateContent' || t.method === 'streamGenerateContent')) {
    const gm: GenerateMethod = t.method;
    return {
      name: t.project === undefined ? `vertexExpress.${gm}` : `vertex.${gm}`,
      noAuth: true,
      run: async () => {
        guard();
        await generate(st, req, res, t, gm, seg[0]!);
      },
    };
  }
  return undefined;
}
