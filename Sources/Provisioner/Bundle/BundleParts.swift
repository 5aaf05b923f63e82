import Foundation

/// `--split SIZE`: a bundle cut into parts for removable media, and joined again on the far side.
///
/// The parts carry one stream: `provision-bundle-stream 1`, then per file a line `MODE SIZE PATH` and
/// its bytes (the MANIFEST first), then `end`. Every part starts with a line naming the bundle (its
/// MANIFEST aggregate), its number and the count; the first part also records the stream's byte count
/// and sha256 and each part's byte count and sha256, so a corrupt or missing part is named before use.
public enum BundleParts {
    static let streamMagic = "provision-bundle-stream 1\n"
    static let partMagic = "provision-bundle-part 1"

    /// "4G", "700M", "1.5GiB", "65536": binary units.
    public static func parseSize(_ text: String) throws -> Int {
        var number = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where number.hasSuffix(suffix) && number.count > suffix.count { number.removeLast(suffix.count); break }
        var scale = 1.0
        if let last = number.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            scale = pow(1024, Double(power))
            number.removeLast()
        }
        guard let value = Double(number), value > 0, value.isFinite else {
            throw BundleError("--split '\(text)' is not a size (say e.g. 4G, 700M, 16GiB)")
        }
        let bytes = Int(value * scale)
        guard bytes >= 1 << 16 else { throw BundleError("--split \(text) is too small: parts are at least 64K") }
        return bytes
    }

    static func entryLine(_ entry: BundleManifest.Entry) -> String { "\(String(entry.mode, radix: 8)) \(entry.size) \(entry.path)\n" }

    static func streamLength(_ manifest: BundleManifest) -> Int {
        let manifestEntry = BundleManifest.Entry(path: BundleManifest.fileName, size: manifest.text.utf8.count, sha256: "", mode: 0o644)
        return streamMagic.utf8.count + ([manifestEntry] + manifest.entries).reduce(0) { $0 + entryLine($1).utf8.count + $1.size } + 4
    }

    static func firstLine(id: String, index: Int, count: Int, headerLength: Int) -> String {
        "\(partMagic) \(id) \(pad(index, 6))/\(pad(count, 6)) \(pad(headerLength, 10))\n"
    }

    static func pad(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static let plainHeaderLength = firstLine(id: String(repeating: "0", count: 64), index: 1, count: 1, headerLength: 0).utf8.count
    static func firstHeaderLength(parts: Int) -> Int { plainHeaderLength + 256 + parts * 128 }

    public static func partName(_ name: String, _ index: Int) -> String { "\(name).part-\(pad(index, 3))" }

    /// Cuts the (verified) bundle `directory` into parts of at most `size` bytes in `output` (made whole
    /// or not at all). Returns the part files.
    @discardableResult
    public static func split(bundle directory: String, size: Int, output: String, progress: (String) -> Void = { _ in }) throws -> [String] {
        let manifest = try BundleManifest.verify(bundle: directory)
        let name = (directory as NSString).lastPathComponent
        let total = streamLength(manifest)
        var count = 1
        while true {
            let capacity = (size - firstHeaderLength(parts: count)) + (count - 1) * (size - plainHeaderLength)
            if capacity >= total { break }
            count += 1
        }
        if FileManager.default.fileExists(atPath: output) { throw BundleError("\(output) exists already: remove it or choose another -o") }
        try BundleIO.makeParent(of: output)
        let temporary = try BundleIO.temporaryDirectory(beside: output)
        do {
            let writer = PartWriter(directory: temporary, name: name, id: manifest.aggregate, count: count, size: size)
            try writer.write(Array(streamMagic.utf8))
            let manifestBytes = Array(manifest.text.utf8)
            try writer.write(Array("644 \(manifestBytes.count) \(BundleManifest.fileName)\n".utf8))
            try writer.write(manifestBytes)
            for entry in manifest.entries {
                progress("packing \(entry.path) (\(entry.size >> 20) MiB)")
                try writer.write(Array(entryLine(entry).utf8))
                let read = try BundleIO.stream(directory + "/" + entry.path) { try writer.write($0) }
                guard read.sha256 == entry.sha256 else { throw BundleError("\(entry.path) changed while it was packed") }
            }
            try writer.write(Array("end\n".utf8))
            try writer.finish(totalExpected: total)
            try BundleIO.commit(temporary, to: output)
            return (1...count).map { output + "/" + partName(name, $0) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Writes the stream into consecutive parts, hashing each part and the whole.
    final class PartWriter {
        let directory: String, name: String, id: String, count: Int, size: Int
        var index = 0
        var file: BundleIO.File?
        var room = 0
        var partHasher = SHA256Hasher()
        var partBytes = 0
        var whole = SHA256Hasher()
        var wholeBytes = 0
        var table: [(bytes: Int, sha256: String)] = []

        init(directory: String, name: String, id: String, count: Int, size: Int) {
            (self.directory, self.name, self.id, self.count, self.size) = (directory, name, id, count, size)
        }

        func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                if room == 0 { try nextPart() }
                let take = min(room, bytes.count - offset)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + take])
                try file?.write(slice)
                partHasher.update(slice)
                whole.update(slice)
                partBytes += take
                wholeBytes += take
                room -= take
                offset += take
            }
        }

        func closePart() throws {
            guard let file else { return }
            try file.sync()
            table.append((partBytes, partHasher.finalizeHex()))
            self.file = nil
        }

        func nextPart() throws {
            try closePart()
            index += 1
            guard index <= count else { throw BundleError("internal: the stream is longer than \(count) parts") }
            let out = try BundleIO.File(creating: directory + "/" + BundleParts.partName(name, index), mode: 0o644)
            let header = index == 1 ? String(repeating: "\n", count: BundleParts.firstHeaderLength(parts: count))
                                    : BundleParts.firstLine(id: id, index: index, count: count, headerLength: BundleParts.plainHeaderLength)
            try out.write(header)
            room = size - header.utf8.count
            (file, partHasher, partBytes) = (out, SHA256Hasher(), 0)
        }

        func finish(totalExpected: Int) throws {
            try closePart()
            guard wholeBytes == totalExpected, table.count == count else {
                throw BundleError("internal: packed \(wholeBytes) bytes in \(table.count) parts, expected \(totalExpected) in \(count)")
            }
            let headerLength = BundleParts.firstHeaderLength(parts: count)
            var lines = [BundleParts.firstLine(id: id, index: 1, count: count, headerLength: headerLength),
                         "parts \(count)\n", "bytes \(wholeBytes)\n", "sha256 \(whole.finalizeHex())\n"]
            for (i, part) in table.enumerated() { lines.append("part \(i + 1) \(part.bytes) \(part.sha256)\n") }
            let body = lines.joined()
            var header = body + "header \(SHA256.hex(Array(body.utf8)))\n"
            header += String(repeating: "\n", count: headerLength - header.utf8.count)
            let first = directory + "/" + BundleParts.partName(name, 1)
            let fd = open(first, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw BundleError("\(first): cannot reopen to write its header") }
            defer { close(fd) }
            let bytes = Array(header.utf8)
            guard pwrite(fd, bytes, bytes.count, 0) == bytes.count, fsync(fd) == 0 else { throw BundleError("\(first): cannot write its header") }
        }
    }
}
