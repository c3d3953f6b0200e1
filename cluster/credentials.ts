// The cluster's simple credential scheme: a per-cluster user list written by `cluster up`
// (mode 0600) that every node reads. Callers present a user and password as gRPC metadata;
// the admin user alone may call the admin service.
import * as grpc from '@grpc/grpc-js'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Credential {
  readonly user: string
  readonly password: string
}

export interface ClusterCredentials {
  readonly admin: Credential
  readonly users: readonly Credential[]
}

export const USER_METADATA_KEY = 'x-swlab-user'
export const PASSWORD_METADATA_KEY = 'x-swlab-password'
export const CREDENTIALS_FILE = 'credentials.json'

export function createCredentials(dir: string): ClusterCredentials {
  const secret = () => randomBytes(12).toString('base64url')
  const credentials: ClusterCredentials = {
    admin: { user: 'admin', password: secret() },
    users: [
      { user: 'alice', password: secret() },
      { user: 'bob', password: secret() },
    ],
  }
  writeFileSync(join(dir, CREDENTIALS_FILE), JSON.stringify(credentials, null, 2), { mode: 0o600 })
  return credentials
}

export function readCredentials(dir: string): ClusterCredentials | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, CREDENTIALS_FILE), 'utf8')) as ClusterCredentials
    if (!parsed.admin?.user || !Array.isArray(parsed.users)) return null
    return parsed
  } catch {
    return null
  }
}

export function credentialMetadata(credential: Credential): grpc.Metadata {
  const metadata = new grpc.Metadata()
  metadata.set(USER_METADATA_KEY, credential.user)
  metadata.set(PASSWORD_METADATA_KEY, credential.password)
  return metadata
}

export type Principal = { readonly user: string; readonly admin: boolean }

/** The principal the metadata proves, or null (unknown user, wrong password, nothing given). */
export function authenticate(credentials: ClusterCredentials | null, metadata: grpc.Metadata): Principal | null {
  if (!credentials) return null
  const user = metadata.get(USER_METADATA_KEY)[0]
  const password = metadata.get(PASSWORD_METADATA_KEY)[0]
  if (typeof user !== 'string' || typeof password !== 'string') return null
  const all = [credentials.admin, ...credentials.users]
  const found = all.find((c) => c.user === user)
  if (!found || !sameSecret(found.password, password)) return null
  return { user, admin: found.user === credentials.admin.user }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
