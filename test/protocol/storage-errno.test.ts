// The errno -> NTSTATUS mapping of storage faults: what Windows and smbd answer (errmap_unix.c).
import t from 'tap'
import fc from 'fast-check'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { storageFaultStatus, storageFaultStatusOf } from '../../protocol/smb2/storage-errno.js'

t.test('a full volume is STATUS_DISK_FULL, a write-protected one STATUS_MEDIA_WRITE_PROTECTED', async (t) => {
  t.equal(storageFaultStatus('ENOSPC'), NT_STATUS.DISK_FULL)
  t.equal(storageFaultStatus('EDQUOT'), NT_STATUS.DISK_FULL, 'a quota is DISK_FULL too, as smbd answers')
  t.equal(storageFaultStatus('EFBIG'), NT_STATUS.DISK_FULL)
  t.equal(storageFaultStatus('EROFS'), NT_STATUS.MEDIA_WRITE_PROTECTED)
  t.equal(storageFaultStatus('EIO'), NT_STATUS.IO_DEVICE_ERROR)
  t.equal(NT_STATUS.DISK_FULL, 0xc000007f)
  t.equal(NT_STATUS.MEDIA_WRITE_PROTECTED, 0xc00000a2)
  t.equal(NT_STATUS.IO_DEVICE_ERROR, 0xc0000185)
  t.equal(ntStatusName(NT_STATUS.MEDIA_WRITE_PROTECTED), 'STATUS_MEDIA_WRITE_PROTECTED')
})

t.test('errnos that are no storage fault, and things that are no errno, map to nothing', async (t) => {
  for (const code of ['ENOENT', 'EEXIST', 'EACCES', 'EBADF', 'enospc', '', 'toString', '__proto__', 'hasOwnProperty']) t.equal(storageFaultStatus(code), null, code)
  for (const value of [undefined, null, 28, {}, ['ENOSPC']]) t.equal(storageFaultStatus(value), null, String(value))
})

t.test('an error thrown by node:fs maps by its code', async (t) => {
  const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 })
  t.equal(storageFaultStatusOf(err), NT_STATUS.DISK_FULL)
  t.equal(storageFaultStatusOf(Object.assign(new Error('x'), { code: 'EROFS' })), NT_STATUS.MEDIA_WRITE_PROTECTED)
  t.equal(storageFaultStatusOf(new Error('plain')), null)
  t.equal(storageFaultStatusOf('ENOSPC'), null, 'a bare string is no error')
  t.equal(storageFaultStatusOf(null), null)
})

t.test('whatever the input, the answer is null or an NTSTATUS error value', async () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.constantFrom('ENOSPC', 'EROFS', 'EIO', 'EDQUOT', 'EFBIG')), (code) => {
      const status = storageFaultStatus(code)
      return status === null || (status >>> 0) >= 0xc0000000
    }),
  )
})
