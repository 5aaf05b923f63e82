import Foundation

/// Writes a bundle directory: files are copied (hashed on the way) into a temporary directory beside
/// the target, the MANIFEST is written last, and only then is the directory renamed into place, so an
/// interrupted bundle never looks finished.
public struct BundleWriter {
    public enum Source: Equatable {
        case file(String)
        case bytes([UInt8])
    }

    public struct Item: Equatable {
        public var path: String
        public var source: Source
        public var mode: Int
        /// The sha256 the copy must have (a model blob's name): checked on the way, the bundle refused otherwise.
        public var expectedSHA256: String?

        public init(path: String, source: Source, mode: Int = 0o644, expectedSHA256: String? = nil) {
            self.path = path
            self.source = source
            self.mode = mode
            self.expectedSHA256 = expectedSHA256
        }
    }

    public private(set) var items: [Item] = []
    /// Called with a line such as "copying images/x.tar: 512 of 2048 MiB" during long copies.
    public var progress: (String) -> Void = { _ in }

    public init() {}

    public mutating func add(_ item: Item) throws {
        try BundleManifest.checkPath(item.path)
        if item.path == BundleManifest.fileName { throw BundleError("'MANIFEST' is the bundle's own file") }
        if let earlier = items.first(where: { $0.path == item.path }) {
            if earlier.source == item.source { return }
            throw BundleError("two different files would be bundled as \(item.path)")
        }
        items.append(item)
    }

    public mutating func add(path: String, bytes: [UInt8], mode: Int = 0o644) throws {
        try add(Item(path: path, source: .bytes(bytes), mode: mode))
    }

    public mutating func add(path: String, file: String, mode: Int? = nil) throws {
        try add(Item(path: path, source: .file(file), mode: mode ?? BundleIO.fileMode(file)))
    }

    /// Writes everything to `directory` (which must not exist) and returns the MANIFEST written.
    @discardableResult
    public func write(to directory: String) throws -> BundleManifest {
        if FileManager.default.fileExists(atPath: directory) {
            throw BundleError("\(directory) exists already: remove it or choose another -o")
        }
        try BundleIO.makeParent(of: directory)
        let temporary = try BundleIO.temporaryDirectory(beside: directory)
        do {
            var entries: [BundleManifest.Entry] = []
            for item in items {
                let target = temporary + "/" + item.path
                try BundleIO.makeParent(of: target)
                let out = try BundleIO.File(creating: target, mode: item.mode)
                let written: (size: Int, sha256: String)
                switch item.source {
                case .bytes(let bytes):
                    try bytes.withUnsafeBytes { try out.write($0) }
                    written = (bytes.count, SHA256.hex(bytes))
                case .file(let source):
                    let total = BundleIO.fileSize(source) ?? 0
                    var copied = 0
                    var reported = 0
                    written = try BundleIO.stream(source) { chunk in
                        try out.write(chunk)
                        copied += chunk.count
                        // A line per 256 MiB on big files: images and models are GBs.
                        if total > 1 << 28, copied - reported >= 1 << 28 {
                            reported = copied
                            progress("copying \(item.path): \(copied >> 20) of \(total >> 20) MiB")
                        }
                    }
                }
                if let expected = item.expectedSHA256, expected != written.sha256 {
                    let source = { if case .file(let path) = item.source { return path } else { return item.path } }()
                    throw BundleError("Model checksum mismatch: \(source): its sha256 is \(written.sha256), its name says \(expected): "
                                      + "the model store is damaged; pull the model again (ollama pull, or --models-from), then bundle again")
                }
                try out.sync()
                _ = chmod(target, mode_t(item.mode))
                entries.append(.init(path: item.path, size: written.size, sha256: written.sha256, mode: item.mode))
            }
            let manifest = BundleManifest(entries: entries)
            let file = try BundleIO.File(creating: temporary + "/" + BundleManifest.fileName, mode: 0o644)
            try file.write(manifest.text)
            try file.sync()
            try BundleIO.commit(temporary, to: directory)
            return manifest
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }
}
