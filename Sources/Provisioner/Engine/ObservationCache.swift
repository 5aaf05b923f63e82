/// Observations of one host. All tasks' observations are read up front in one
/// round trip; while nothing changes they stand. A change makes them stale, and
/// the next task that needs any re-reads everything still pending in one trip.
struct ObservationCache {
    private var known = Observations()
    private var fresh: Set<Observation> = []
    /// Requests of tasks not yet run, by task key (so a refresh re-reads only those).
    private var pending: [String: [Observation]] = [:]

    mutating func prefetch(_ requests: [String: [Observation]], via transport: Transport) throws {
        pending = requests
        let all = Array(Set(requests.values.flatMap { $0 }))
        guard !all.isEmpty else { return }
        known = try transport.observe(all)
        fresh = Set(all)
    }

    mutating func observe(_ requests: [Observation], for key: String, via transport: Transport) throws -> Observations {
        pending[key] = nil
        let stale = requests.filter { !fresh.contains($0) }
        if !stale.isEmpty {
            let batch = Array(Set(stale + pending.values.flatMap { $0 }.filter { !fresh.contains($0) }))
            known.merge(try transport.observe(batch))
            fresh.formUnion(batch)
        }
        var answer = Observations()
        for request in requests {
            switch request {
            case .file(let path, _):
                if let state = known.files[path] { answer.files[path] = state } else { answer.missing.insert(path) }
            case .command(let argv):
                answer.commands[argv] = known.commands[argv]
            case .target(let path):
                if let state = known.targets[path] { answer.targets[path] = state } else { answer.unresolved.insert(path) }
            }
        }
        return answer
    }

    /// After a change on the host nothing observed can be trusted.
    mutating func invalidate() { fresh.removeAll() }
}
