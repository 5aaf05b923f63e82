/// Every problem `validate` found in one pass, each `FILE:LINE:COL: what`: a user fixes them all at once.
public struct Diagnostics: Error, CustomStringConvertible {
    public var messages: [String]

    public init(_ messages: [String]) { self.messages = messages }

    public var description: String { messages.joined(separator: "\n") }

    /// Throws nothing for no problems, a lone problem as itself, several as `Diagnostics` (duplicates dropped).
    static func throwIfAny(_ problems: [Error]) throws {
        var seen = Set<String>()
        let unique = problems.flatMap(ParseErrors.flatten).filter { seen.insert("\($0)").inserted }
        if unique.count == 1 { throw unique[0] }
        if !unique.isEmpty { throw Diagnostics(unique.map { "\($0)" }) }
    }
}

/// Several problems of one item (a task with two unknown keys), kept together until they are reported.
struct ParseErrors: Error, CustomStringConvertible {
    var errors: [Error]

    init(_ errors: [Error]) { self.errors = errors }

    var description: String { errors.map { "\($0)" }.joined(separator: "\n") }

    /// The single problems inside `error`.
    static func flatten(_ error: Error) -> [Error] {
        switch error {
        case let many as ParseErrors: return many.errors.flatMap(flatten)
        case let many as Diagnostics: return many.messages.map { PreflightError($0) }
        default: return [error]
        }
    }
}

/// Where the loader puts problems while validating, so that it can go on reading.
final class LoadErrors {
    var errors: [Error] = []
}
