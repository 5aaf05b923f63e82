/// `serial:` and `max_fail_percentage:` as Ansible reads them.
enum Batching {
    /// Hosts cut into batches: `serial: 2`, `serial: "30%"`, or a list of those
    /// (the last size repeats). No serial: one batch of all hosts.
    static func batches(of hosts: [String], serial: Value?, at location: SourceLocation) throws -> [[String]] {
        guard let serial, serial != .null, !hosts.isEmpty else { return [hosts] }
        let sizes = try (serial.list ?? [serial]).map { try size($0, of: hosts.count, at: location) }
        guard !sizes.isEmpty else { return [hosts] }
        var batches: [[String]] = []
        var start = 0
        var index = 0
        while start < hosts.count {
            let size = sizes[min(index, sizes.count - 1)]
            batches.append(Array(hosts[start..<min(hosts.count, start + size)]))
            start += size
            index += 1
        }
        return batches
    }

    static func size(_ value: Value, of total: Int, at location: SourceLocation) throws -> Int {
        switch value {
        case .int(let n) where n > 0: return n
        case .string(let text):
            let trimmed = text.trimmingSpaces
            if trimmed.hasSuffix("%"), let percent = Double(trimmed.dropLast()), percent > 0 {
                return max(1, Int(Double(total) * percent / 100))
            }
            if let n = Int(trimmed), n > 0 { return n }
        default: break
        }
        throw ParseError("serial must be a positive number, a percentage like \"30%\", or a list of those; not \(value.json)", at: location)
    }

    /// Whether a batch's failures end the play: more than `max_fail_percentage`
    /// percent failed, or (without it) every host of the batch failed.
    static func exceeds(failed: Int, of total: Int, maxFailPercentage: Double?) -> Bool {
        guard total > 0, failed > 0 else { return false }
        guard let limit = maxFailPercentage else { return failed == total }
        return Double(failed) * 100 / Double(total) > limit
    }
}
