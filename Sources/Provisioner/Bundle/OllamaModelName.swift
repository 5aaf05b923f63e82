/// A model name as Ollama parses it (`model.ParseName`): `[host/][namespace/]model[:tag]`, with Ollama's
/// defaults `registry.ollama.ai`, `library` and `latest`. Its parts become folders of the model store
/// (`manifests/HOST/NAMESPACE/MODEL/TAG`), so only Ollama's own characters are accepted.
public struct OllamaModelName: Hashable, Sendable, CustomStringConvertible {
    public static let defaultHost = "registry.ollama.ai"
    public static let defaultNamespace = "library"
    public static let defaultTag = "latest"

    public var host: String
    public var namespace: String
    public var model: String
    public var tag: String

    public init(host: String = defaultHost, namespace: String = defaultNamespace, model: String, tag: String = defaultTag) {
        self.host = host
        self.namespace = namespace
        self.model = model
        self.tag = tag
    }

    /// nil when `text` is no model name Ollama would accept.
    public init?(_ text: String) {
        var rest = Substring(text)
        var tag = OllamaModelName.defaultTag
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...3).contains(parts.count) else { return nil }
        let model = parts[parts.count - 1]
        let namespace = parts.count >= 2 ? parts[parts.count - 2] : OllamaModelName.defaultNamespace
        let host = parts.count == 3 ? parts[0] : OllamaModelName.defaultHost
        guard OllamaModelName.isPart(model, max: 80), OllamaModelName.isPart(namespace, max: 80),
              OllamaModelName.isPart(tag, max: 80, first: "_"), OllamaModelName.isPart(host, max: 350, extra: ":") else { return nil }
        self.init(host: host, namespace: namespace, model: model, tag: tag)
    }

    /// Letters, digits, `_`, `-` and `.` (and `extra`), starting with a letter or digit (or `first`); never `.`/`..`.
    static func isPart(_ text: String, max: Int, first: Character? = nil, extra: String = "") -> Bool {
        guard let head = text.first, text.count <= max, text != ".", text != ".." else { return false }
        guard (head.isASCII && (head.isLetter || head.isNumber)) || head == first else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0) || extra.contains($0)) }
    }

    /// How Ollama shows it (`/api/tags` names, `ollama list`): the default host and namespace left out.
    public var shortest: String {
        if host == OllamaModelName.defaultHost {
            return (namespace == OllamaModelName.defaultNamespace ? "" : namespace + "/") + model + ":" + tag
        }
        return "\(host)/\(namespace)/\(model):\(tag)"
    }

    public var description: String { shortest }

    /// The manifest's path in a model store, under `manifests/`.
    public var manifestPath: String { "\(host)/\(namespace)/\(model)/\(tag)" }

    /// Ollama compares names without regard to case.
    public func matches(_ other: OllamaModelName) -> Bool {
        [host, namespace, model, tag].map { $0.lowercased() } == [other.host, other.namespace, other.model, other.tag].map { $0.lowercased() }
    }
}
