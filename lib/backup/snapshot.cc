#include "backup/snapshot.h"

#include <memory>
#include <utility>

namespace manage::backup {
namespace {

// The option file with the credentials and mariabackup's --target-dir.
struct Scratch {
  std::string cnf;
  std::string target;
};

Status PrepareScratch(sys::FileSystem& fs, const SnapshotOptions& o, const Scratch& s) {
  Result<std::string> cnf = MariabackupDefaultsFile(o.credentials);
  if (!cnf.ok()) return cnf.status();
  MANAGE_RETURN_IF_ERROR(fs.MakeDirs(o.work_dir, 0700));
  MANAGE_RETURN_IF_ERROR(fs.RemoveAll(s.target));
  MANAGE_RETURN_IF_ERROR(fs.MakeDirs(s.target, 0700));
  return fs.WriteFileAtomic(s.cnf, *cnf, 0600);
}

// Removes both; the status is that of removing the credentials.
Status CleanScratch(sys::FileSystem& fs, const Scratch& s) {
  Status removed = fs.RemoveFile(s.cnf);
  (void)fs.RemoveAll(s.target);  // only mariabackup's temporary files
  return removed;
}

sys::Command BackupCommand(const SnapshotOptions& o, const Scratch& s) {
  sys::Command cmd;
  // mariabackup insists on --defaults-extra-file being the first argument.
  cmd.argv = {o.mariabackup, "--defaults-extra-file=" + s.cnf, "--backup", "--stream=xbstream",
              "--target-dir=" + s.target};
  cmd.argv.insert(cmd.argv.end(), o.extra_args.begin(), o.extra_args.end());
  cmd.timeout = o.timeout;
  return cmd;
}

// Runs mariabackup with its stdout going through the encoder into `writer`,
// and builds the record from what it reported.
Result<BackupRecord> StreamBackup(sys::ProcessRunner& runner, storage::ObjectWriter& writer,
                                  const SnapshotOptions& o, const Scratch& s) {
  std::unique_ptr<ByteSink> store =
      SinkTo([&writer](std::string_view chunk) { return writer.Write(chunk); });
  auto encoder = Encoder::Create(o.encoding, store.get());
  if (!encoder.ok()) return encoder.status();
  // mariabackup keeps producing while the encoder and the store work.
  AsyncSink input(&(*encoder)->input(), kPipelineQueueBytes);
  uint64_t read = 0;
  Result<sys::ProcessResult> run =
      runner.RunWithOutput(BackupCommand(o, s), [&](std::string_view chunk) {
        MANAGE_RETURN_IF_ERROR(input.Write(chunk));
        read += chunk.size();
        if (o.on_progress) o.on_progress(read);
        return Status::Ok();
      });
  // The store's failure explains a stopped mariabackup better than its own.
  if (!run.ok() && !input.Failure().ok()) return input.Failure().Annotate("writing the snapshot");
  if (!run.ok()) return run.status().Annotate("mariabackup --backup");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariabackup --backup", *run));
  Result<BinlogPosition> pos = ParseBackupLog(run->stderr_tail);
  if (!pos.ok()) return pos.status();
  Status stored = input.Close();
  if (!stored.ok()) return stored.Annotate("writing the snapshot");
  BackupRecord r;
  r.id = o.name;
  r.time = o.time;
  r.gtid = pos->gtid;
  r.binlog = pos->file;
  r.node = o.node;
  r.store = o.store;
  r.service = o.service;
  (*encoder)->Describe(&r);
  return r;
}

}  // namespace

Result<BackupRecord> TakeSnapshot(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                  storage::ObjectStore& store, const SnapshotOptions& options) {
  MANAGE_RETURN_IF_ERROR(storage::ValidateObjectName(options.name));
  if (options.work_dir.empty()) return Status::InvalidArgument("snapshot work_dir is empty");
  Scratch scratch{options.work_dir + "/" + options.name + ".cnf",
                  options.work_dir + "/" + options.name + ".tmp"};
  Status prepared = PrepareScratch(fs, options, scratch);
  if (!prepared.ok()) {
    (void)CleanScratch(fs, scratch);
    return prepared.Annotate("prepare snapshot");
  }
  Result<std::unique_ptr<storage::ObjectWriter>> writer = store.Create(options.name);
  if (!writer.ok()) {
    (void)CleanScratch(fs, scratch);
    return writer.status().Annotate("create snapshot object " + options.name);
  }
  Result<BackupRecord> record = StreamBackup(runner, **writer, options, scratch);
  Status cleaned = CleanScratch(fs, scratch);
  if (record.ok() && !cleaned.ok()) record = cleaned.Annotate("remove mariabackup option file");
  if (!record.ok()) {
    (*writer)->Abort();
    return record.status();
  }
  Status committed = (*writer)->Commit();
  if (!committed.ok()) return committed.Annotate("commit snapshot " + options.name);
  return record;
}

}  // namespace manage::backup
