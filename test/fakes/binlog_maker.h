// Binlog events made byte for byte as MariaDB writes them (v4 header,
// CRC-32 when asked), for tests of the code that reads them: a format
// description, GTID events, queries, XIDs and a stand-in rows event, and
// whole transactions made of them.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mysql/binlog_event.h"

namespace manage::testing {

inline void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// An event of `type` with `body`, its header filled in and a CRC-32 appended.
inline std::string MakeEvent(uint8_t type, uint32_t ts, uint32_t server, const std::string& body,
                             bool crc = true, uint16_t flags = 0) {
  std::string e;
  const uint32_t size = static_cast<uint32_t>(19 + body.size() + (crc ? 4 : 0));
  PutLe(&e, ts, 4);
  e.push_back(static_cast<char>(type));
  PutLe(&e, server, 4);
  PutLe(&e, size, 4);
  PutLe(&e, 1000, 4);
  PutLe(&e, flags, 2);
  e += body;
  if (crc) {
    PutLe(&e,
          crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(e.data()),
                static_cast<uInt>(e.size())),
          4);
  }
  return e;
}

// A format description (binlog_checksum CRC32 unless `crc` is false), as
// MariaDB 10.11 writes it, created at `created`.
inline std::string MakeFde(uint32_t created = 1700000000, bool crc = true,
                           const std::string& version = "10.11.19-MariaDB-log") {
  std::string body;
  PutLe(&body, 4, 2);
  std::string v = version;
  v.resize(50, '\0');
  body += v;
  PutLe(&body, created, 4);
  body.push_back(19);
  std::string post(171, '\0');
  post[mysql::kQueryEvent - 1] = 13;
  post[mysql::kGtidEvent - 1] = 19;
  post[mysql::kXidEvent - 1] = 0;
  body += post;
  body.push_back(crc ? 1 : 0);
  std::string e = MakeEvent(mysql::kFormatDescriptionEvent, created, 1, body, false);
  // Whatever the algorithm, a format description carries a checksum field.
  std::string full = e.substr(0, 9);
  PutLe(&full, static_cast<uint32_t>(e.size() + 4), 4);
  full += e.substr(13);
  PutLe(&full,
        crc ? crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(full.data()),
                    static_cast<uInt>(full.size()))
            : 0,
        4);
  return full;
}

inline std::string MakeGtid(uint64_t seqno, uint32_t server, uint32_t ts, uint32_t domain = 0,
                            uint8_t flags = 0, bool crc = true) {
  std::string body;
  PutLe(&body, seqno, 8);
  PutLe(&body, domain, 4);
  body.push_back(static_cast<char>(flags));
  body.append(6, '\0');
  return MakeEvent(mysql::kGtidEvent, ts, server, body, crc);
}

inline std::string MakeQuery(const std::string& text, uint32_t server, uint32_t ts,
                             bool crc = true) {
  std::string body;
  PutLe(&body, 7, 4);  // thread id
  PutLe(&body, 0, 4);  // execution time
  body.push_back(0);   // schema length
  PutLe(&body, 0, 2);  // error
  PutLe(&body, 0, 2);  // status variables length
  body.push_back('\0');
  body += text;
  return MakeEvent(mysql::kQueryEvent, ts, server, body, crc);
}

inline std::string MakeXid(uint32_t server, uint32_t ts, bool crc = true) {
  std::string body;
  PutLe(&body, 42, 8);
  return MakeEvent(mysql::kXidEvent, ts, server, body, crc);
}

// A row change (WRITE_ROWS_EVENT's number; the content is opaque here).
inline std::string MakeRows(uint32_t server, uint32_t ts, size_t bytes = 40, bool crc = true) {
  return MakeEvent(30, ts, server, std::string(bytes, 'r'), crc);
}

// BEGIN, a row change, XID: one transaction of server `server`.
inline std::vector<std::string> MakeTransaction(uint64_t seqno, uint32_t server, uint32_t ts,
                                                uint32_t domain = 0) {
  return {MakeGtid(seqno, server, ts, domain), MakeQuery("BEGIN", server, ts), MakeRows(server, ts),
          MakeXid(server, ts)};
}

// A DDL statement: a standalone GTID and its query.
inline std::vector<std::string> MakeDdl(uint64_t seqno, uint32_t server, uint32_t ts,
                                        const std::string& text = "DROP TABLE t") {
  return {MakeGtid(seqno, server, ts, 0, mysql::kGtidStandalone), MakeQuery(text, server, ts)};
}

inline std::string Join(const std::vector<std::string>& events) {
  std::string out;
  for (const std::string& e : events) out += e;
  return out;
}

}  // namespace manage::testing
