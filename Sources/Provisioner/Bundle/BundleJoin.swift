import Foundation

extension BundleParts {
    struct PartInfo {
        var path: String
        var id: String
        var index: Int
        var count: Int
        var headerLength: Int
    }

    struct Table {
        var bytes: Int
        var sha256: String
        var parts: [(bytes: Int, sha256: String)]
    }

    static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let file = try BundleIO.File(reading: path)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { buffer.deallocate() }
        var got = 0
        while got < count {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...]), count: count - got)
            if n == 0 { break }
            got += n
        }
        return Array(buffer[0..<got])
    }

    /// The first line of a part file, or nil when the file is not a part.
    static func partInfo(_ path: String) -> PartInfo? {
        guard let prefix = try? readPrefix(path, count: plainHeaderLength),
              let line = String(bytes: prefix, encoding: .utf8), line.hasSuffix("\n") else { return nil }
        let fields = line.dropLast().split(separator: " ")
        guard fields.count == 5, "\(fields[0]) \(fields[1])" == partMagic, fields[2].count == 64 else { return nil }
        let position = fields[3].split(separator: "/")
        guard position.count == 2, let index = Int(position[0]), let count = Int(position[1]), let length = Int(fields[4]),
              index >= 1, index <= count else { return nil }
        return PartInfo(path: path, id: String(fields[2]), index: index, count: count, headerLength: length)
    }

    static func table(_ first: PartInfo) throws -> Table {
        let prefix = try readPrefix(first.path, count: first.headerLength)
        guard let text = String(bytes: prefix, encoding: .utf8) else { throw BundleError("\(first.path): its header is corrupt") }
        var lines = text.split(separator: "\n").map(String.init)
        guard let last = lines.last, last.hasPrefix("header ") else { throw BundleError("\(first.path): its header is corrupt (cut short)") }
        lines.removeLast()
        let body = lines.map { $0 + "\n" }.joined()
        guard SHA256.hex(Array(body.utf8)) == last.dropFirst(7) else { throw BundleError("\(first.path): its header is corrupt (checksum)") }
        var table = Table(bytes: 0, sha256: "", parts: [])
        for line in lines.dropFirst() {
            let f = line.split(separator: " ")
            switch (f.first, f.count) {
            case ("bytes", 2): table.bytes = Int(f[1]) ?? -1
            case ("sha256", 2): table.sha256 = String(f[1])
            case ("part", 4): table.parts.append((Int(f[2]) ?? -1, String(f[3])))
            default: break
            }
        }
        guard table.parts.count == first.count else { throw BundleError("\(first.path): its header lists \(table.parts.count) parts, not \(first.count)") }
        return table
    }

    /// Joins the parts found in `inputs` (part files or folders holding them) into the bundle `output`.
    /// A missing, foreign, truncated or corrupt part is named and nothing is left at `output`.
    @discardableResult
    public static func join(_ inputs: [String], output: String, progress: (String) -> Void = { _ in }) throws -> BundleManifest {
        var candidates: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { throw BundleError("\(input): no such file or folder") }
            if isDirectory.boolValue {
                candidates += BundleManifest.listedFiles(in: input).filter { !$0.contains("/") }.map { input + "/" + $0 }
            } else {
                candidates.append(input)
            }
        }
        let parts = candidates.compactMap(partInfo)
        guard let first = parts.first(where: { $0.index == 1 }) else {
            throw BundleError("no first part (NAME.part-001) among \(inputs.joined(separator: ", ")): it records the others")
        }
        let table = try table(first)
        var byIndex: [Int: PartInfo] = [:]
        for part in parts where part.id == first.id {
            if let other = byIndex[part.index], other.path != part.path {
                throw BundleError("part \(part.index) is there twice: \(other.path) and \(part.path)")
            }
            byIndex[part.index] = part
        }
        let name = ((first.path as NSString).lastPathComponent as NSString).deletingPathExtension
        var problems: [String] = []
        for index in 1...first.count {
            guard let part = byIndex[index] else {
                let expected = partName(name, index)
                if let found = candidates.first(where: { ($0 as NSString).lastPathComponent == expected }) {
                    problems.append("part \(index) of \(first.count) (\(found)) has no readable header: truncated or corrupt")
                } else {
                    problems.append("part \(index) of \(first.count) (\(expected)) is missing")
                }
                continue
            }
            let expected = part.headerLength + table.parts[index - 1].bytes
            if let size = BundleIO.fileSize(part.path), size != expected {
                problems.append("part \(index) of \(first.count) (\(part.path)) is \(size) bytes, expected \(expected): truncated or corrupt")
            }
        }
        for part in parts where part.id != first.id {
            problems.append("\(part.path) belongs to another bundle; ignored")
        }
        guard problems.allSatisfy({ $0.hasSuffix("ignored") }) else {
            throw BundleError("cannot join the bundle; nothing was extracted:\n  " + problems.joined(separator: "\n  "))
        }
        if FileManager.default.fileExists(atPath: output) { throw BundleError("\(output) exists already: remove it or choose another -o") }
        try BundleIO.makeParent(of: output)
        let temporary = try BundleIO.temporaryDirectory(beside: output)
        do {
            let reader = PartReader(parts: (1...first.count).compactMap { byIndex[$0] }, table: table)
            let manifest = try extract(reader, into: temporary, progress: progress)
            try BundleIO.commit(temporary, to: output)
            return manifest
        } catch let error as BundleError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw BundleError("cannot join the bundle; nothing was extracted: \(error.message)")
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    static func extract(_ reader: PartReader, into directory: String, progress: (String) -> Void) throws -> BundleManifest {
        guard try reader.line() + "\n" == streamMagic else { throw BundleError("the stream does not start as a provision bundle") }
        var manifest: BundleManifest?
        var seen = Set<String>()
        while true {
            let line = try reader.line()
            if line == "end" { break }
            let f = line.split(separator: " ", maxSplits: 2)
            guard f.count == 3, let mode = Int(f[0], radix: 8), let size = Int(f[1]), size >= 0 else {
                throw BundleError("malformed entry '\(line)' in the stream")
            }
            let path = String(f[2])
            try BundleManifest.checkPath(path)
            if path == BundleManifest.fileName {
                let bytes = try reader.bytes(size)
                guard let text = String(bytes: bytes, encoding: .utf8) else { throw BundleError("the MANIFEST is not UTF-8") }
                manifest = try BundleManifest.parse(text)
                let out = try BundleIO.File(creating: directory + "/" + path, mode: 0o644)
                try bytes.withUnsafeBytes { try out.write($0) }
                continue
            }
            guard let manifest, let entry = manifest.entries.first(where: { $0.path == path }) else {
                throw BundleError("\(path) is not in the MANIFEST")
            }
            guard seen.insert(path).inserted, entry.size == size, entry.mode == mode else { throw BundleError("\(path) does not match its MANIFEST entry") }
            progress("extracting \(path) (\(size >> 20) MiB)")
            let target = directory + "/" + path
            try BundleIO.makeParent(of: target)
            let out = try BundleIO.File(creating: target, mode: mode)
            var hasher = SHA256Hasher()
            try reader.copy(size) { chunk in
                hasher.update(chunk)
                try out.write(chunk)
            }
            try out.sync()
            _ = chmod(target, mode_t(mode))
            let sha = hasher.finalizeHex()
            guard sha == entry.sha256 else { throw BundleError("\(path): sha256 mismatch (MANIFEST \(entry.sha256), joined \(sha))") }
        }
        try reader.finish()
        guard let manifest else { throw BundleError("the stream holds no MANIFEST") }
        let missing = manifest.entries.map(\.path).filter { !seen.contains($0) }
        guard missing.isEmpty else { throw BundleError("the stream lacks \(missing.joined(separator: ", "))") }
        return manifest
    }

    /// Reads the stream across the parts in order, checking each part's sha256 when its end is reached.
    final class PartReader {
        let parts: [PartInfo]
        let table: Table
        var current = -1
        var file: BundleIO.File?
        var left = 0
        var hasher = SHA256Hasher()
        var whole = SHA256Hasher()
        var buffer: [UInt8] = []
        var position = 0

        init(parts: [PartInfo], table: Table) { (self.parts, self.table) = (parts, table) }

        /// The next raw bytes (at most one chunk), nil at the end of the last part.
        func fill() throws -> Bool {
            while left == 0 {
                if current >= 0 { try checkPart() }
                current += 1
                guard current < parts.count else { return false }
                let part = parts[current]
                let opened = try BundleIO.File(reading: part.path)
                _ = lseek(opened.fd, off_t(part.headerLength), SEEK_SET)
                (file, left, hasher) = (opened, table.parts[current].bytes, SHA256Hasher())
            }
            var chunk = [UInt8](repeating: 0, count: min(left, BundleIO.chunkSize))
            let n = try chunk.withUnsafeMutableBytes { try file?.read(into: $0, count: $0.count) ?? 0 }
            guard n > 0 else { throw BundleError("\(parts[current].path) ends early: truncated") }
            chunk.removeLast(chunk.count - n)
            hasher.update(chunk)
            whole.update(chunk)
            left -= n
            buffer = Array(buffer[position...]) + chunk
            position = 0
            return true
        }

        func checkPart() throws {
            let part = parts[current]
            let sha = hasher.finalizeHex()
            guard sha == table.parts[current].sha256 else {
                throw BundleError("part \(part.index) of \(part.count) (\(part.path)) is corrupt: sha256 \(sha), its header says \(table.parts[current].sha256)")
            }
        }

        func line() throws -> String {
            while true {
                if let newline = buffer[position...].firstIndex(of: 10) {
                    let text = String(decoding: buffer[position..<newline], as: UTF8.self)
                    position = newline + 1
                    return text
                }
                guard buffer.count - position < 1 << 16, try fill() else { throw BundleError("the stream is cut short or corrupt") }
            }
        }

        func bytes(_ count: Int) throws -> [UInt8] {
            var out: [UInt8] = []
            try copy(count) { out.append(contentsOf: $0) }
            return out
        }

        func copy(_ count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            var remaining = count
            while remaining > 0 {
                if position == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    position = 0
                    guard try fill() else { throw BundleError("the stream is cut short") }
                }
                let take = min(remaining, buffer.count - position)
                try buffer[position..<position + take].withUnsafeBytes { try body($0) }
                position += take
                remaining -= take
            }
        }

        func finish() throws {
            guard position == buffer.count, try !fill() else { throw BundleError("the stream has bytes after its end") }
            let sha = whole.finalizeHex()
            guard sha == table.sha256 else { throw BundleError("the joined stream's sha256 \(sha) is not the recorded \(table.sha256)") }
        }
    }
}
