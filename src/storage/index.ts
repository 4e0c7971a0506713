// The output folder, manifest journal, resume index and answer cache.
export { slugify, imageFileName, extensionFor, confinedPath } from './names.ts';
export { writeFileAtomic, removeOrphanTemps, type AtomicWriteOptions, type OrphanOptions } from './atomic.ts';
export {
  ManifestWriter,
  readManifest,
  parseEntry,
  MANIFEST_FILE,
  type ManifestEntry,
  type ManifestFile,
  type ManifestReader,
  type ManifestWriterOptions,
} from './manifest.ts';
export { loadResumeIndex, type ResumeIndex, type ResumeOptions } from './resume.ts';
export { OutputFolder, SUMMARY_FILE, GALLERY_FILE, type OutputFolderOptions, type SaveOptions } from './output.ts';
export { ImageCache, type CachedAnswer, type ImageCacheOptions } from './cache.ts';
