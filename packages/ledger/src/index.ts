export { canonicalJson } from './canonical-json.js';
export { EMPTY_ROOT, hashChildren, hashLeaf, sha256Hex } from './hash.js';
export { TreeReader, verifyConsistency, verifyInclusion, type NodeLookup, type NodeRef, type TreeIndex } from './merkle.js';
export {
  SIG_COSIGNATURE_ED25519, cosignNote, cosignatureLine, generateCosignerKey, generateKey, noteText, parseVerifierKey, signNote, verifierKeyOf, verifyNote,
} from './note.js';
export { formatCheckpoint, parseCheckpoint, signCheckpoint, type Checkpoint } from './checkpoint.js';
export { MAX_ENTRY_BYTES, validateRecord, type LedgerRecord } from './record.js';
export { formatProofFile, parseProofFile, verifyProofFile, type ProofFile, type ProofVerification } from './proof-file.js';
export { tilePath, type TilesHandler, type TilesResponse } from './tiles.js';
export { openLedger, type AppendInput, type AppendResult, type Ledger, type LedgerOptions } from './ledger.js';
export { verifyLedgerFile, type VerifyProblem, type VerifyReport } from './verify.js';
export { ledgerCommand, witnessCommand } from './commands.js';
export {
  DuplicateIdsError, type LedgerDriver, type LedgerStore, type LogConfig, type SequenceRequest, type Sequenced, type SignedTreeHead,
  type StoredCheckpoint, type StoredEntry, type StoredPayload,
} from './store.js';
export { SqliteStore, sqliteDriver, type SqliteDriverOptions } from './sqlite-store.js';
export { payloadReader } from './sqlite-payloads.js';
export { DURABILITIES, type Durability } from './sqlite-writer.js';
export { postgresDriver, type PostgresDriverOptions } from './pg-store.js';
export { exportPostgresLedger, type ExportReport } from './pg-export.js';
export { SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION, quoteSchema } from './pg-schema.js';
export { Witness, serveWitness, witnessHandler, type WitnessOptions, type WitnessResponse } from './witness.js';
export { WitnessRefusal, requestCosignature, witnessCheckpoints, type WitnessEndpoint, type WitnessedLog } from './witness-client.js';
export { LedgerHost } from './ledger-host.js';
export { LedgerClient } from './ledger-client.js';
