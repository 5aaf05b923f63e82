import Foundation

/// Renders Ansible's Jinja2 templates over a set of variables.
///
/// Variables may themselves hold templates (`root: "{{ base | default('/srv') }}"`);
/// they are rendered when an expression first reads them, and remembered for the
/// lifetime of this Templar. Parsed templates are cached process-wide by their text.
///
/// Values marked `.unsafe` (a host's data, a stored template result, `!unsafe`) are never
/// rendered: their marks come off when they are read, so what a render returns is plain
/// and holds their text as it is.
public struct Templar: Sendable {
    public let variables: ValueDict
    /// Folders `lookup('file', ...)` searches (each one's `files/` first), like Ansible's search path.
    public let searchPaths: [String]
    let context: TemplarContext

    /// What `omit` evaluates to (`mode: "{{ m | default(omit) }}"`): callers drop arguments
    /// whose rendered value equals it, as Ansible does with its placeholder.
    public static let omit = "__omit_place_holder__provision"

    public init(variables: ValueDict, searchPaths: [String] = []) {
        self.variables = variables
        self.searchPaths = searchPaths
        context = TemplarContext(variables: variables, searchPaths: searchPaths)
    }

    /// Whether `text` holds template syntax (`{{`, `{%` or `{#`) and so needs rendering.
    public static func containsTemplate(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= 2 else { return false }
            for i in 0..<(bytes.count - 1) where bytes[i] == UInt8(ascii: "{") {
                let next = bytes[i + 1]
                if next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#") { return true }
            }
            return false
        }
    }

    /// Renders the strings inside `value`, recursing into lists and dicts.
    public func render(_ value: Value) throws -> Value {
        switch value {
        case .string(let s): return try render(s)
        case .unsafe(let v): return v.plain
        case .list(let items) where value.needsRendering: return .list(try items.map(render))
        case .dict(let d) where value.needsRendering:
            var rendered = ValueDict()
            for (key, item) in d { rendered[try renderString(key)] = try render(item) }
            return .dict(rendered)
        default: return value
        }
    }

    /// Renders a template string. A string that is exactly one `{{ expr }}` yields the
    /// expression's value with its type (a list stays a list); anything else yields text.
    public func render(_ text: String) throws -> Value {
        guard Templar.containsTemplate(text) else { return .string(text) }
        return try located(in: text, name: nil) { try evaluator().renderNative(text) }
    }

    /// Renders a template string to text (`str()` of a single expression's value).
    public func renderString(_ text: String) throws -> String {
        guard Templar.containsTemplate(text) else { return text }
        return try located(in: text, name: nil) {
            try evaluator().renderText(try TemplateCache.shared.template(text, escapeBackslashes: true))
        }
    }

    /// Evaluates a bare expression, as `when:`, `loop:` and `that:` hold them.
    /// A wrapped `"{{ expr }}"` also works.
    public func evaluate(_ expression: String) throws -> Value {
        if Templar.containsTemplate(expression) { return try render(expression) }
        return try located(in: expression, name: nil) {
            try evaluator().value(try TemplateCache.shared.expression(expression))
        }
    }

    /// A `when:`/`changed_when:`/`failed_when:` condition, by Python truthiness.
    /// When the condition is itself a template (`"{{ a }} == 1"`), the text it renders to is
    /// evaluated as an expression, as Ansible does, unless that text was made from untrusted data
    /// (a host's output, a lookup, `!unsafe`): that would run a host's words on the controller,
    /// and Ansible 2.19 refuses it too.
    public func isTrue(_ condition: String) throws -> Bool {
        guard Templar.containsTemplate(condition) else { return try evaluate(condition).isTruthy }
        let untrustedBefore = context.untrustedReadCount
        let rendered = try render(condition)
        guard case .string(let text) = rendered else { return rendered.isTruthy }
        let trimmed = PythonString.strip(text)
        switch trimmed {
        case "", "False", "false", "None", "none": return false
        case "True", "true": return true
        default:
            guard context.untrustedReadCount == untrustedBefore else {
                throw TemplateError("the condition renders to an expression made from untrusted data (a host's output, a lookup"
                    + " or an !unsafe value), which is never evaluated; write the condition as an expression without {{ }}")
            }
            return try evaluate(trimmed).isTruthy
        }
    }

    /// Renders a template file (the `template` module): `{% if %}`, `{% for %}`, `{% set %}`,
    /// comments and whitespace control, with Ansible's `trim_blocks` on and `lstrip_blocks` off.
    /// Errors name `name` and the line and column inside the file.
    public func renderTemplate(_ text: String, name: String) throws -> String {
        try located(in: text, name: name) {
            guard Templar.containsTemplate(text) else { return text }
            return try evaluator().renderText(try TemplateCache.shared.template(text, escapeBackslashes: false))
        }
    }

    func evaluator() -> TemplateEvaluator { TemplateEvaluator(context: context) }

    /// Runs `body`, giving its errors a line and column inside `text`.
    func located<T>(in text: String?, name: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TemplateError {
            guard let text else {
                var e = error
                e.template = e.template ?? name
                throw e
            }
            throw error.located(in: TemplateCache.normalizedSource(text), name: name)
        }
    }
}

/// The shared state of one Templar: its variables and their rendered values.
final class TemplarContext: @unchecked Sendable {
    let variables: ValueDict
    let searchPaths: [String]
    private var rendered: [String: Value] = [:]
    /// Variables whose value holds untrusted data (marked, or read from marked data while rendered).
    private var untrustedNames: Set<String> = []
    /// Reads of untrusted data so far (variables, lookups): a condition checks it did not grow.
    private var untrustedReads = 0
    private let lock = NSLock()
    /// Variables may refer to variables this deep before we call it a runaway chain.
    static let maxChain = 64

    init(variables: ValueDict, searchPaths: [String]) {
        self.variables = variables
        self.searchPaths = searchPaths
    }

    /// How many variables have been looked up and remembered.
    var cachedCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return rendered.count
    }

    /// Notes that untrusted data was read.
    func readUntrusted() {
        lock.withLock { untrustedReads += 1 }
    }

    var untrustedReadCount: Int { lock.withLock { untrustedReads } }

    /// The variable's value with any templates inside it rendered; nil when it does not exist.
    /// An unsafe value comes back as its plain payload, unrendered.
    func variable(_ name: String, evaluator: TemplateEvaluator) throws -> Value? {
        guard let raw = variables[name] else { return nil }
        if case .string(let s) = raw, !Templar.containsTemplate(s) { return raw }
        if case .unsafe(let payload) = raw {
            readUntrusted()
            return payload
        }
        lock.lock()
        let cached = rendered[name]
        if cached != nil, untrustedNames.contains(name) { untrustedReads += 1 }
        lock.unlock()
        if let cached { return cached }
        guard raw.needsRendering else {
            // Remember containers without templates too, so large facts are scanned once.
            lock.lock()
            rendered[name] = raw
            lock.unlock()
            return raw
        }
        if evaluator.resolving.contains(name) {
            var error = TemplateError("recursive loop detected in template string: \(name)")
            error.inVariable = name
            throw error
        }
        guard evaluator.resolving.count < Self.maxChain else {
            throw TemplateError("variables refer to each other more than \(Self.maxChain) levels deep (at '\(name)')")
        }
        let inner = TemplateEvaluator(context: self, resolving: evaluator.resolving + [name])
        let value: Value
        let untrustedBefore = untrustedReadCount
        if raw.hasUnsafeMarks { readUntrusted() }
        do {
            value = try inner.renderValue(raw)
        } catch var error as TemplateError {
            if error.inVariable == nil {
                error.inVariable = name
                error.message += " (while templating variable '\(name)')"
            }
            throw error
        }
        lock.lock()
        rendered[name] = value
        if untrustedReads != untrustedBefore { untrustedNames.insert(name) }
        lock.unlock()
        return value
    }
}

/// Parsed templates and expressions, keyed by their text and shared by every Templar:
/// a playbook's strings are parsed once per run however many hosts and items render them.
final class TemplateCache: @unchecked Sendable {
    static let shared = TemplateCache()
    /// Playbook strings (backslashes escaped) and template files (not) parse differently.
    private var templates: [String: ParsedTemplate] = [:]
    private var files: [String: ParsedTemplate] = [:]
    private var expressions: [String: TemplateExpression] = [:]
    private let lock = NSLock()
    /// Entries kept before the cache starts over (bounds memory for generated template text).
    static let capacity = 20_000

    func template(_ text: String, escapeBackslashes: Bool) throws -> ParsedTemplate {
        lock.lock()
        let cached = escapeBackslashes ? templates[text] : files[text]
        lock.unlock()
        if let cached { return cached }
        let parsed = try Self.parseTemplate(text, escapeBackslashes: escapeBackslashes)
        lock.lock()
        if templates.count + files.count >= Self.capacity {
            templates.removeAll(keepingCapacity: true)
            files.removeAll(keepingCapacity: true)
        }
        if escapeBackslashes { templates[text] = parsed } else { files[text] = parsed }
        lock.unlock()
        return parsed
    }

    func expression(_ text: String) throws -> TemplateExpression {
        lock.lock()
        let cached = expressions[text]
        lock.unlock()
        if let cached { return cached }
        let parsed = try TemplateParser.parseExpression(try TemplateLexer.tokenize(expression: Array(text.utf8)))
        lock.lock()
        if expressions.count >= Self.capacity { expressions.removeAll(keepingCapacity: true) }
        expressions[text] = parsed
        lock.unlock()
        return parsed
    }

    /// The text as Jinja2 lexes it: `\r\n` and `\r` become `\n`.
    static func normalizedSource(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "\r")) else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\r") {
                out.append(UInt8(ascii: "\n"))
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { i += 1 }
            } else {
                out.append(bytes[i])
            }
            i += 1
        }
        return out
    }

    static func parseTemplate(_ text: String, escapeBackslashes: Bool) throws -> ParsedTemplate {
        var source = normalizedSource(text)
        var trailing = 0
        for b in source.reversed() {
            guard b == UInt8(ascii: "\n") else { break }
            trailing += 1
        }
        // Jinja2 drops one trailing newline (keep_trailing_newline is off).
        let full = source
        if trailing > 0 { source.removeLast() }
        do {
            let nodes = try TemplateParser.parseTemplate(try TemplateLexer.tokenize(template: source, escapeBackslashes: escapeBackslashes))
            return ParsedTemplate(source: full, nodes: nodes, trailingNewlines: trailing)
        } catch let error as TemplateError {
            throw error.located(in: full, name: nil)
        }
    }
}

extension Value {
    /// Whether rendering changes anything: a trusted string holds template syntax, or an
    /// unsafe mark has to come off.
    var needsRendering: Bool {
        switch self {
        case .string(let s): return Templar.containsTemplate(s)
        case .unsafe: return true
        case .list(let items): return items.contains { $0.needsRendering }
        case .dict(let d): return d.contains { $0.value.needsRendering || Templar.containsTemplate($0.key) }
        default: return false
        }
    }
}
