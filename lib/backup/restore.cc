#include <utility>

#include "backup/snapshot.h"

namespace manage::backup {
namespace {

struct Layout {
  std::string datadir;
  std::string staging;
  bool staging_inside = false;  // staging is a direct child of the datadir
};

Layout MakeLayout(const RestoreOptions& o) {
  Layout l{o.datadir, o.work_dir, false};
  while (l.datadir.size() > 1 && l.datadir.back() == '/') l.datadir.pop_back();
  if (l.staging.empty()) l.staging = l.datadir + "/.restore";
  size_t slash = l.staging.find_last_of('/');
  l.staging_inside = slash != std::string::npos && l.staging.substr(0, slash) == l.datadir;
  return l;
}

std::string Basename(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

// OK when the datadir is absent or holds nothing but lost+found and our staging dir.
Status CheckDatadirEmpty(const sys::FileSystem& fs, const Layout& l) {
  if (!fs.Exists(l.datadir)) return Status::Ok();
  if (!fs.IsDirectory(l.datadir)) {
    return Status::FailedPrecondition("datadir " + l.datadir + " is not a directory");
  }
  Result<std::vector<std::string>> names = fs.ListDir(l.datadir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name == "lost+found" || (l.staging_inside && name == Basename(l.staging))) continue;
    return Status::FailedPrecondition("datadir " + l.datadir + " is not empty (it has '" + name +
                                      "'); refusing to restore over existing data");
  }
  return Status::Ok();
}

// Streams the object through the decoder into `mbstream -x` and checks the
// result against the record.
Status Unpack(sys::ProcessRunner& runner, storage::ObjectStore& store, const BackupRecord& record,
              const RestoreOptions& o, const Layout& l) {
  sys::Command cmd{{o.mbstream, "-x", "-C", l.staging}, {}, "", o.timeout};
  Status read = Status::Ok();
  bool mbstream_refused = false;  // the failure came from mbstream's stdin
  std::unique_ptr<Decoder> decoder;
  Result<sys::ProcessResult> run = runner.RunWithWriter(cmd, [&](const sys::OutputSink& to_stdin) {
    std::unique_ptr<ByteSink> mbstream = SinkTo([&](std::string_view chunk) {
      Status fed = to_stdin(chunk);
      mbstream_refused = !fed.ok();
      return fed;
    });
    auto created = Decoder::Create(record, o.key, mbstream.get());
    if (!created.ok()) return read = created.status();
    decoder = std::move(*created);
    // The store keeps downloading while mbstream writes files. Only the
    // worker touches the decoder and mbstream's stdin until Close returns.
    AsyncSink input(&decoder->input(), kPipelineQueueBytes);
    uint64_t fetched = 0;
    read = store.Read(record.id, [&](std::string_view chunk) {
      MANAGE_RETURN_IF_ERROR(input.Write(chunk));
      fetched += chunk.size();
      if (o.on_progress) o.on_progress(fetched);
      return Status::Ok();
    });
    Status closed = input.Close();
    if (read.ok()) read = closed;
    return read;
  });
  if (!run.ok() && read.ok()) return run.status().Annotate("mbstream -x");
  // A bad snapshot explains a failing mbstream better than its exit does; a
  // failing mbstream explains why it stopped reading better than the read.
  if (!read.ok() && !mbstream_refused) return read.Annotate("read the snapshot");
  if (!run.ok()) return run.status().Annotate("mbstream -x");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mbstream -x", *run));
  if (!read.ok()) return read.Annotate("read the snapshot");
  return decoder->CheckRecord();
}

// The position from the prepared backup's binlog info file, else from the record.
Result<BinlogPosition> ReadPosition(const sys::FileSystem& fs, const BackupRecord& record,
                                    const Layout& l) {
  for (const char* name : kBinlogInfoFiles) {
    std::string path = l.staging + "/" + name;
    if (!fs.Exists(path)) continue;
    Result<std::string> text = fs.ReadFile(path);
    if (!text.ok()) return text.status();
    return ParseBinlogInfoFile(*text);
  }
  return BinlogPosition{record.binlog, 0, record.gtid};
}

// Renames every entry of `from` into `to`; on failure puts back what was moved.
Status MoveEntries(sys::FileSystem& fs, const std::string& from, const std::string& to) {
  Result<std::vector<std::string>> names = fs.ListDir(from);
  if (!names.ok()) return names.status();
  std::vector<std::string> moved;
  for (const std::string& name : *names) {
    Status st = fs.Rename(from + "/" + name, to + "/" + name);
    if (!st.ok()) {
      for (const std::string& m : moved) (void)fs.Rename(to + "/" + m, from + "/" + m);
      return st.Annotate("move restored files into " + to);
    }
    moved.push_back(name);
  }
  return Status::Ok();
}

Result<BinlogPosition> UnpackPrepareMove(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                         storage::ObjectStore& store, const BackupRecord& record,
                                         const RestoreOptions& o, const Layout& l) {
  MANAGE_RETURN_IF_ERROR(fs.MakeDirs(l.datadir, 0750));
  MANAGE_RETURN_IF_ERROR(fs.RemoveAll(l.staging));
  MANAGE_RETURN_IF_ERROR(fs.MakeDirs(l.staging, 0750));
  MANAGE_RETURN_IF_ERROR(Unpack(runner, store, record, o, l));
  sys::Command prepare{
      {o.mariabackup, "--prepare", "--target-dir=" + l.staging}, {}, "", o.timeout};
  Result<sys::ProcessResult> prepared = runner.Run(prepare);
  if (!prepared.ok()) return prepared.status().Annotate("mariabackup --prepare");
  MANAGE_RETURN_IF_ERROR(sys::CheckExit("mariabackup --prepare", *prepared));
  Result<BinlogPosition> pos = ReadPosition(fs, record, l);
  if (!pos.ok()) return pos.status();
  if (!o.mysql_user.empty()) {
    MANAGE_RETURN_IF_ERROR(fs.ChownRecursive(l.datadir, o.mysql_user));
    if (!l.staging_inside) MANAGE_RETURN_IF_ERROR(fs.ChownRecursive(l.staging, o.mysql_user));
  }
  MANAGE_RETURN_IF_ERROR(MoveEntries(fs, l.staging, l.datadir));
  return pos;
}

}  // namespace

Result<BinlogPosition> RestoreSnapshot(sys::ProcessRunner& runner, sys::FileSystem& fs,
                                       storage::ObjectStore& store, const BackupRecord& record,
                                       const RestoreOptions& options) {
  if (options.datadir.empty() || options.datadir.front() != '/') {
    return Status::InvalidArgument("datadir '" + options.datadir + "' is not an absolute path");
  }
  MANAGE_RETURN_IF_ERROR(storage::ValidateObjectName(record.id));
  Layout l = MakeLayout(options);
  if (l.staging == l.datadir) {
    return Status::InvalidArgument("restore work_dir must differ from the datadir");
  }
  MANAGE_RETURN_IF_ERROR(CheckDatadirEmpty(fs, l));
  {
    // An encrypted snapshot without its key fails before anything is touched.
    std::unique_ptr<ByteSink> nowhere = SinkTo([](std::string_view) { return Status::Ok(); });
    auto decodable = Decoder::Create(record, options.key, nowhere.get());
    if (!decodable.ok()) return decodable.status().Annotate("restore " + record.id);
  }
  bool created_datadir = !fs.Exists(l.datadir);
  Result<BinlogPosition> pos = UnpackPrepareMove(runner, fs, store, record, options, l);
  (void)fs.RemoveAll(l.staging);  // empty after a successful move
  if (!pos.ok()) {
    if (created_datadir) (void)fs.RemoveAll(l.datadir);
    return pos.status().Annotate("restore " + record.id + " into " + l.datadir);
  }
  return pos;
}

}  // namespace manage::backup
