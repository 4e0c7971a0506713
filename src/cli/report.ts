// `imagebatch report <dir>`: rebuild summary-independent index.html from the manifest.
import type { Command } from 'commander';
import { writeGallery } from '../report/gallery.ts';

export function addReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild the HTML gallery (index.html) of an output folder from its manifest')
    .argument('<dir>', 'output folder')
    .action(async (dir: string) => {
      const path = await writeGallery(dir);
      process.stdout.write(`${path}\n`);
    });
}
