import Provisioner

/// The host's package manager, chosen from the `pkg_mgr` fact: the read-only probes that
/// say what is installed and the commands that change it. Shared by the modules that
/// install packages (`package`, `docker_compat`, ...), so all of them observe and act alike.
enum PackageManager: String, Sendable {
    case apt, dnf

    /// Nil when the facts name no supported manager (yum, zypper, unknown, or facts not gathered).
    init?(facts: ValueDict) {
        switch facts["pkg_mgr"]?.string {
        case "apt": self = .apt
        // Fedora 41+ reports dnf5; `dnf` runs it there too.
        case "dnf", "dnf5": self = .dnf
        default: return nil
        }
    }

    /// Why no package can be managed here, for `Plan.failed`.
    static func unsupported(_ facts: ValueDict) -> String {
        let fact = facts["pkg_mgr"]?.string ?? "(not gathered: enable gather_facts)"
        return "no supported package manager (apt or dnf) on this host; facts say pkg_mgr=\(fact)"
    }

    // MARK: Names

    /// A package whose name differs between the families.
    struct Equivalent: Sendable {
        var debian: String
        var redHat: String
        /// What both provide, for messages.
        var provides: String
        /// The RedHat package holds much more than the Debian one, so removing it is no equivalent.
        var redHatHoldsMore: Bool
    }

    /// Only verified pairs: Debian's `uidmap` ships /usr/bin/newuidmap and newgidmap, which
    /// Fedora and RHEL ship in `shadow-utils` (with useradd, passwd, ...).
    static let equivalents = [
        Equivalent(debian: "uidmap", redHat: "shadow-utils", provides: "newuidmap and newgidmap", redHatHoldsMore: true),
    ]

    /// The name this host's family uses for `name`.
    func native(_ name: String) -> String {
        equivalent(of: name).map { self == .apt ? $0.debian : $0.redHat } ?? name
    }

    /// The table entry that renames `name` on this host, if any.
    func equivalent(of name: String) -> Equivalent? {
        PackageManager.equivalents.first { self == .apt ? $0.redHat == name : $0.debian == name }
    }

    /// Why removing `name` through its equivalent would remove more than asked; nil when it would not.
    func broaderRemoval(_ name: String) -> String? {
        guard self == .dnf, let entry = equivalent(of: name), entry.redHatHoldsMore else { return nil }
        return "\(name) is \(entry.redHat) on this host, which holds much more than \(entry.provides); "
            + "refusing to remove it (name \(entry.redHat) explicitly if that is really wanted)"
    }

    /// Plain package names only: what the probes can answer for and what never reads as an option,
    /// a version pin, a glob, a group or a file.
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._+:()-".contains($0)) }
    }

    // MARK: What is installed

    /// What the host has for one requested name.
    struct Installed: Equatable, Sendable {
        /// The package answering for the name: itself, or on dnf its provider (`vim` -> `vim-enhanced`).
        var package: String
        var version: String
        /// dpkg's `db:Status-Abbrev` ("ii ", "rc ", "hi ", "un "); "ii " on dnf, where rpm knows only installed packages.
        var status: String

        private var character: [Character] { Array(status) }
        /// Unpacked and configured (dpkg's second status letter `i`).
        var isInstalled: Bool { character.count > 1 && character[1] == "i" }
        /// Anything left on disk: installed, half-installed, or only configuration files (`c`).
        var hasFiles: Bool { character.count > 1 && character[1] != "n" }
        var hasOnlyConfiguration: Bool { character.count > 1 && character[1] == "c" }
        /// Held (`apt-mark hold`): apt refuses to change it with -y, so `latest` leaves it alone.
        var isHeld: Bool { character.first == "h" }
    }

    /// Every package dpkg knows, one line each: `NAME<TAB>STATUS<TAB>VERSION<TAB>ARCH<TAB>SECTION<TAB>ORIGIN`.
    /// One listing answers every package task and package_facts of a run (one dpkg-query, not one per task);
    /// dpkg prints the bare name for `libc6:i386`, so the architecture tells such names apart.
    /// A remembered probe (`RememberedProbe`): dpkg-query reads its whole database (tens of milliseconds on a
    /// server with thousands of packages) while one stat tells whether it moved, since dpkg replaces `status`
    /// whole (a new inode) at each change and keeps the changes not yet in it in `updates/`.
    static let dpkgListing = RememberedProbe.command(#"""
        if [ "$1" != - ] && s=$(LC_ALL=C stat -c '%i %s %.9Y' /var/lib/dpkg/status 2>/dev/null) && [ -n "$s" ]; then
          for f in /var/lib/dpkg/updates/*; do [ -e "$f" ] && s="$s ${f##*/}"; done
          [ "$s" = "$1" ] && { echo @same; exit 0; }
          printf '@stamp %s\n' "$(printf '%s' "$s" | base64 -w0)"
        fi
        exec dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\t${Version}\t${Architecture}\t${Section}\t${Origin}\n'
        """#, [])
    static let rpmFormat = "%{NAME}\\t%{VERSION}-%{RELEASE}\\n"

    /// One line `NAME<TAB>PACKAGE<TAB>VERSION` per installed name. A name rpm does not know as a
    /// package (`vim` on Fedora) is looked up among provides, as dnf does when installing it, so
    /// such names converge too. The names are arguments, never part of the script.
    static let rpmScript = """
        f='\(rpmFormat)'
        for n do
          if v=$(rpm -q --qf "$f" "$n" 2>/dev/null) || v=$(rpm -q --whatprovides --qf "$f" "$n" 2>/dev/null); then
            printf '%s\\t' "$n"; printf '%s\\n' "$v" | head -n 1
          fi
        done
        exit 0
        """

    /// The probe for what is installed of `names` (already native): on apt the whole listing, which
    /// costs dpkg-query the same (it reads its whole database either way) and is shared by every task.
    func installedProbe(_ names: [String]) -> [String] {
        switch self {
        case .apt: return PackageManager.dpkgListing
        case .dnf: return ["/bin/sh", "-c", PackageManager.rpmScript, "sh"] + names
        }
    }

    /// What the installed probe found, by requested name; a failure message when it could not look.
    func parseInstalled(_ output: CommandOutput?, _ names: [String]) -> Result<[String: Installed], ProbeFailure> {
        guard let output else { return .success([:]) }
        if self == .apt && output.status > 1 {
            return .failure(ProbeFailure("dpkg-query failed (exit \(output.status)): \(output.stderr.trimming("\n"))"))
        }
        var found: [String: Installed] = [:]
        // `name:arch` asks for that architecture; a plain name takes any (an installed line wins).
        var wanted: [String: [(name: String, architecture: String?)]] = [:]
        for name in names {
            let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
            guard let base = parts.first else { continue }
            wanted[base, default: []].append((name, parts.count > 1 ? parts[1] : nil))
        }
        for line in output.stdout.split(separator: "\n") {
            // The listing names every package: only the asked ones are split into fields.
            if self == .apt, wanted[String(line.prefix { $0 != "\t" })] == nil { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { continue }
            switch self {
            case .apt:
                let asked = wanted[fields[0]] ?? []
                let entry = Installed(package: fields[0], version: fields[2], status: fields[1])
                let architecture = fields.count > 3 ? fields[3] : ""
                for (name, wantedArchitecture) in asked where wantedArchitecture == nil || wantedArchitecture == architecture {
                    if found[name]?.isInstalled != true { found[name] = entry }
                }
            case .dnf:
                if found[fields[0]] == nil { found[fields[0]] = Installed(package: fields[1], version: fields[2], status: "ii ") }
            }
        }
        return .success(found)
    }

    struct ProbeFailure: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }

    // MARK: Newer versions

    /// The probe for newer versions of `names`: `apt-cache policy` (Installed vs Candidate) or
    /// `dnf check-update` (exit 100 when it lists updates). C locale: the labels are translated.
    func upgradeProbe(_ names: [String], _ options: Options = Options()) -> [String] {
        switch self {
        case .apt: return ["env", "LC_ALL=C", "apt-cache"] + options.aptRelease + ["policy"] + names
        case .dnf: return ["env", "LC_ALL=C", "dnf", "-q"] + options.dnfRepos + ["check-update"] + names
        }
    }

    /// Installed names that a newer candidate would replace, with that candidate's version.
    func parseUpgrades(_ output: CommandOutput?, _ installed: [String: Installed]) -> Result<[String: String], ProbeFailure> {
        guard let output else { return .success([:]) }
        var upgrades: [String: String] = [:]
        switch self {
        case .apt:
            guard output.status == 0 else {
                return .failure(ProbeFailure("apt-cache policy failed (exit \(output.status)): \(output.stderr.trimming("\n"))"))
            }
            var blocks: [String: Policy] = [:]
            for policy in PackageManager.policies(output.stdout) where blocks[policy.name] == nil { blocks[policy.name] = policy }
            for (name, current) in installed where current.isInstalled && !current.isHeld {
                // apt heads the block of `bash:amd64` (the native architecture) with plain `bash:`.
                guard let policy = blocks[name] ?? blocks[current.package], let candidate = policy.candidate,
                      candidate != "(none)", candidate != policy.installed else { continue }
                // apt makes an older version the candidate only when pinned to it (priority >= 1000), and
                // `apt-get install` then moves to it: either way the install changes the package.
                upgrades[name] = candidate
            }
        case .dnf:
            if output.status == 0 { return .success([:]) }
            guard output.status == 100 else {
                return .failure(ProbeFailure("dnf check-update failed (exit \(output.status)): \(output.stderr.trimming("\n"))"))
            }
            for line in output.stdout.split(separator: "\n") {
                if line.hasPrefix("Obsoleting") { break }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 3, let dot = fields[0].lastIndex(of: ".") else { continue }
                let package = String(fields[0][..<dot])
                for (name, current) in installed where current.package == package || name == package {
                    upgrades[name] = String(fields[1])
                }
            }
        }
        return .success(upgrades)
    }

    /// One `apt-cache policy` block: a `name:` line, then indented `Installed:` and `Candidate:` lines.
    struct Policy: Equatable, Sendable {
        var name: String
        var installed: String?
        var candidate: String?
    }

    static func policies(_ text: String) -> [Policy] {
        var blocks: [Policy] = []
        for line in text.split(separator: "\n") {
            if line.first != " ", line.hasSuffix(":") {
                blocks.append(Policy(name: String(line.dropLast())))
                continue
            }
            guard !blocks.isEmpty else { continue }
            let trimmed = line.trimming(" ")
            if trimmed.hasPrefix("Installed: ") {
                blocks[blocks.count - 1].installed = String(trimmed.dropFirst("Installed: ".count))
            } else if trimmed.hasPrefix("Candidate: ") {
                blocks[blocks.count - 1].candidate = String(trimmed.dropFirst("Candidate: ".count))
            }
        }
        return blocks
    }

    // MARK: Commands

    /// What a task asks of the manager besides names: apt's recommends and release, dnf's repositories.
    struct Options: Sendable, Equatable {
        var installRecommends: Bool?
        var defaultRelease: String?
        var enableRepos: [String] = []
        var disableRepos: [String] = []

        /// `-o APT::Default-Release=R`, as `apt-get -t R` sets it (for apt-cache too).
        var aptRelease: [String] { defaultRelease.map { ["-o", "APT::Default-Release=\($0)"] } ?? [] }
        var dnfRepos: [String] { enableRepos.map { "--enablerepo=\($0)" } + disableRepos.map { "--disablerepo=\($0)" } }
    }

    /// Why the options do not fit this manager (nil when they do).
    func refusal(_ options: Options, upgrade: String?, purge: Bool, autoremoveWithNames: Bool) -> String? {
        switch self {
        case .apt:
            if !options.enableRepos.isEmpty || !options.disableRepos.isEmpty {
                return "enablerepo and disablerepo are dnf options; this host uses apt (give the repository with apt_repository instead)"
            }
        case .dnf:
            if options.defaultRelease != nil { return "default_release is an apt option; this host uses dnf (use enablerepo)" }
            if upgrade != nil { return "upgrade is an apt option; on a dnf host run 'dnf upgrade -y' with the command module" }
            if options.installRecommends != nil { return "install_recommends is an apt option; this host uses dnf" }
            if purge { return "purge is an apt option; this host uses dnf" }
            if autoremoveWithNames { return "autoremove together with names is supported with apt only; give it alone to run 'dnf autoremove'" }
        }
        return nil
    }

    /// Refreshes the package index (`apt-get update`, `dnf makecache`). apt's success is recorded in the
    /// update-success-stamp that `cache_valid_time` reads: an update that finds nothing new leaves the lists'
    /// times as they were, and without the stamp (Debian installs nothing that writes it) every later run
    /// would find the index stale and refresh it again.
    func refreshCommand(_ options: Options = Options()) -> Command {
        switch self {
        case .apt: return Command(PackageManager.aptRefresh, label: "apt-get update -q")
        case .dnf: return Command(["dnf", "makecache"] + options.dnfRepos)
        }
    }

    static let aptRefresh = ["/bin/sh", "-c", "apt-get update -q || exit; mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp"]

    /// When apt's index was last refreshed (Ansible's update-success-stamp, else the lists folder), then now.
    /// Lists without any package index (an image's cleaned cache) count as never updated: a recent folder
    /// time must not keep a host with no index from its update (Ansible's apt would then find no package).
    /// The glob is the shell's own (no `ls`); one stat answers for both times, the stamp's first.
    static let aptCacheAge = ["/bin/sh", "-c", """
        t=0
        for f in /var/lib/apt/lists/*_Packages*; do
          [ -e "$f" ] && { set -- $(stat -c %Y /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists 2>/dev/null); t=${1:-0}; }
          break
        done
        echo "$t"; date +%s
        """]

    /// apt-get's words for an `upgrade` mode (apt-get, not aptitude, as Ansible's force_apt_get).
    static func upgradeWords(_ mode: String) -> [String] {
        mode == "full" || mode == "dist" ? ["dist-upgrade"] : ["upgrade", "--with-new-pkgs"]
    }

    /// `apt-get -s ...`: what apt would do, changing nothing.
    static func aptSimulation(_ words: [String]) -> [String] { ["env", "LC_ALL=C", "apt-get", "-s", "-q"] + words }

    /// What would be autoremoved (read-only).
    func autoremoveProbe(_ options: Options) -> [String] {
        switch self {
        case .apt: return PackageManager.aptSimulation(["autoremove"])
        case .dnf: return ["env", "LC_ALL=C", "dnf", "--assumeno"] + options.dnfRepos + ["autoremove"]
        }
    }

    /// apt-get WORDS without questions, in the C locale so its summary line can be read.
    static func aptCommand(_ words: [String], _ options: Options) -> Command {
        Command(["apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
                    + options.aptRelease + words,
                environment: aptEnvironment.merging(["LC_ALL": "C"]) { $1 })
    }

    /// apt's "N upgraded, N newly installed, N to remove" (without "and N not upgraded").
    static func aptSummary(_ output: String) -> String? {
        for line in output.split(separator: "\n") where line.contains(" upgraded, ") && line.contains(" newly installed, ") {
            return line.components(separatedBy: " and ").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// apt without questions: keep changed configuration files, take defaults.
    static let aptEnvironment = ["DEBIAN_FRONTEND": "noninteractive"]
    /// Names are names: with this, apt refuses `python3.1` instead of reading it as a regular
    /// expression and installing every match (older apt ignores the unknown option).
    static let aptExactNames = ["-o", "APT::Cmd::Pattern-Only=1"]

    /// Installs `names` in one transaction; apt also upgrades installed ones to the candidate.
    /// `options.installRecommends` (apt only): nil keeps apt's configuration.
    func installCommand(_ names: [String], _ options: Options = Options(), autoremove: Bool = false) -> Command {
        switch self {
        case .apt:
            var argv = ["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef",
                        "-o", "Dpkg::Options::=--force-confold"] + PackageManager.aptExactNames
            switch options.installRecommends {
            case false?: argv.append("--no-install-recommends")
            case true?: argv += ["-o", "APT::Install-Recommends=yes"]
            case nil: break
            }
            if autoremove { argv.append("--auto-remove") }
            if let release = options.defaultRelease { argv += ["-t", release] }
            return Command(argv + names, environment: PackageManager.aptEnvironment)
        case .dnf:
            return Command(["dnf", "install", "-y"] + options.dnfRepos + names)
        }
    }

    // MARK: Offline (apply --bundle)

    /// Runs apt-get or apt-cache (the words after the repository) with the bundle's repository as the only
    /// source: its index is read into a private folder, so the host's own lists and sources stay as they are,
    /// and the folder is removed afterwards. apt reads the repository as `[trusted=yes]`: the MANIFEST was
    /// verified before the run, and Packages' sha256 of each .deb is checked by apt.
    static let offlineScript = """
        set -e
        repo=$1; shift
        d=$(mktemp -d "${TMPDIR:-/tmp}/provision-offline-apt.XXXXXX")
        trap 'rm -rf "$d"' EXIT
        mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts"
        ln -s "$repo" "$d/repo"
        echo "deb [trusted=yes] file:$d/repo ./" >"$d/sources.list"
        bundled() {
          program=$1; shift
          "$program" -o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/parts" \\
            -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Dir::Cache::archives=$d/cache/archives" \\
            -o APT::Sandbox::User=root -o Acquire::Languages=none -o Acquire::Check-Date=false "$@"
        }
        if ! bundled apt-get -q update >"$d/update.log" 2>&1; then
          echo "the bundle's package repository $repo could not be read:" >&2; cat "$d/update.log" >&2; exit 100
        fi
        status=0
        bundled "$@" || status=$?
        exit $status
        """

    /// `argv` (apt-get … or apt-cache …, possibly after `env LC_ALL=C`) run against the bundle's repository only.
    static func offline(_ repository: String, _ argv: [String]) -> [String] {
        var words = argv
        var prefix: [String] = []
        if words.first == "env" {
            prefix = ["env"] + words.dropFirst().prefix { $0.contains("=") }
            words.removeFirst(prefix.count)
        }
        return prefix + ["/bin/sh", "-c", offlineScript, "sh", repository] + words
    }

    static func offline(_ repository: String, _ command: Command) -> Command {
        Command(offline(repository, command.argv), environment: command.environment, label: command.argv.joined(separator: " ") + " (from the bundle)")
    }

    /// Upgrades installed `names` (dnf's `install` leaves an installed package as it is).
    func upgradeCommand(_ names: [String], _ options: Options = Options()) -> Command {
        switch self {
        case .apt: return installCommand(names, options)
        case .dnf: return Command(["dnf", "upgrade", "-y"] + options.dnfRepos + names)
        }
    }

    /// Removes `names` in one transaction; `purge` (apt only) also removes configuration files.
    func removeCommand(_ names: [String], purge: Bool = false, autoremove: Bool = false, _ options: Options = Options()) -> Command {
        switch self {
        case .apt:
            return Command(["apt-get", purge ? "purge" : "remove", "-y", "-q"] + PackageManager.aptExactNames
                            + (autoremove ? ["--auto-remove"] : []) + names,
                           environment: PackageManager.aptEnvironment)
        case .dnf:
            return Command(["dnf", "remove", "-y"] + options.dnfRepos + names)
        }
    }
}
