import { writeCg } from './files.ts';

/** rdma.max has the same format in v1 and v2: "DEV hca_handle=N hca_object=M". */
export function applyRdma(dir: string, rdma: Record<string, { hcaHandles?: number; hcaObjects?: number }>): void {
  for (const [dev, l] of Object.entries(rdma)) {
    const v = (n: number | undefined) => (n === undefined ? 'max' : String(n));
    writeCg(dir, 'rdma.max', `${dev} hca_handle=${v(l.hcaHandles)} hca_object=${v(l.hcaObjects)}`, `linux.resources.rdma.${dev}`);
  }
}
