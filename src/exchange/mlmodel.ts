// MLmodel files name the run (`run_id:`) and, in MLflow 3, the logged model (`model_id:`) they
// belong to. On import those ids change, so the lines are rewritten to the recipient's ids; the
// rest of the file is kept byte for byte. Pure text edit: the YAML is not re-serialised.

export interface IdMapping {
  runIds: Map<string, string>;
  modelIds: Map<string, string>;
}

export function isMlmodelPath(path: string): boolean {
  return path === "MLmodel" || path.endsWith("/MLmodel");
}

export function rewriteMlmodel(text: string, ids: IdMapping): string {
  return text.replace(
    /^(\s*(run_id|model_id):\s*)(['"]?)([A-Za-z0-9-]+)\3(\s*)$/gm,
    (whole, prefix, field, quote, id, tail) => {
      const map = field === "run_id" ? ids.runIds : ids.modelIds;
      const target = map.get(id);
      return target === undefined ? whole : `${prefix}${quote}${target}${quote}${tail}`;
    },
  );
}
