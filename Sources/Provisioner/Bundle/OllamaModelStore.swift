import Foundation

/// An Ollama model store folder (`manifests/HOST/NAMESPACE/MODEL/TAG` + `blobs/sha256-HEX`), as Ollama keeps
/// it under `~/.ollama/models` and as an offline site receives it: one model's manifest and the blobs it names. In Provisioner: `provision bundle` copies
/// models by it and the `ollama_model` module imports them.
public struct OllamaManifest: Equatable, Sendable {
    public struct Blob: Equatable, Sendable {
        /// The 64 hex digits of `sha256:HEX`.
        public var hex: String
        public var size: Int
        public var file: String { "sha256-" + hex }
    }

    /// The config blob and the layers, each once.
    public var blobs: [Blob]
    /// sha256 of the manifest file: the ID Ollama lists.
    public var digest: String
    public var bytes: [UInt8]

    /// Reads a manifest (Docker distribution JSON: `config` and `layers`, each with `digest` and `size`).
    public init(_ bytes: [UInt8], path: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ModuleError("\(path) is not a model manifest (JSON with config and layers)")
        }
        let entries = [object["config"] as? [String: Any]].compactMap { $0 } + (object["layers"] as? [[String: Any]] ?? [])
        guard !entries.isEmpty else { throw ModuleError("\(path) names no blobs (no config, no layers)") }
        var blobs: [Blob] = []
        for entry in entries {
            guard let digest = entry["digest"] as? String, digest.hasPrefix("sha256:"), digest.count == 71,
                  digest.dropFirst(7).allSatisfy({ $0.isHexDigit && !$0.isUppercase }), let size = entry["size"] as? Int, size >= 0 else {
                throw ModuleError("\(path) has a blob that is not `sha256:` with 64 hex digits and a size: \(entry)")
            }
            let blob = Blob(hex: String(digest.dropFirst(7)), size: size)
            if !blobs.contains(blob) { blobs.append(blob) }
        }
        self.blobs = blobs
        self.bytes = bytes
        digest = SHA256.hex(bytes)
    }

    public var totalSize: Int { blobs.reduce(0) { $0 + $1.size } }

    /// Whether a listed ID (12 or 64 hex digits, `sha256:` or not) is this manifest's.
    public func isListed(as id: String) -> Bool {
        let hex = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        return hex.count >= 12 && digest.hasPrefix(hex.lowercased())
    }
}

extension Int {
    /// Decimal units, as Ollama prints sizes (3.1 MB).
    public var decimalBytes: String {
        for (unit, scale) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] where Double(self) >= scale {
            let value = Double(self) / scale
            return (value >= 10 ? String(Int(value)) : String(format: "%.1f", value)) + " " + unit
        }
        return "\(self) B"
    }
}
