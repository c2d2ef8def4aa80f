// libFuzzer targets (`make fuzz`): DEVENV_FUZZ_TARGET=stack|interpolation|demuxer picks one;
// libFuzzer's own main drives it (`devenv-fuzz [libFuzzer options] CORPUS…`). Each input must
// end in a value or a thrown, described error: a crash, a trap, an ASan report, a hang or
// runaway memory is a finding.
import DevEnvCore
import DockerEngine
import Foundation

nonisolated(unsafe) var scratch = ""

/// A stack file: YAML, merge keys and aliases, interpolation, every Compose and x-devenv key.
func fuzzStack(_ data: Data) {
    let file = scratch + "/compose.yaml"
    guard FileManager.default.createFile(atPath: file, contents: data) else { fatalError("cannot write \(file)") }
    do {
        let loaded = try StackLoader.load(
            StackLoadOptions(
                files: [file], workingDirectory: scratch,
                environment: ["HOME": "/root", "TAG": "15", "EMPTY": "", "PORT": "5432"]))
        _ = loaded.stack.services.map { ($0.name, $0.environment.count, $0.ports.count) }
    } catch {
        // A file the loader refuses must say where: every error names the file.
        for item in error.diagnostics where !item.description.contains("compose.yaml") {
            fatalError("an error without its file: \(item.description)")
        }
    }
}

/// `${VAR}`, `${VAR:-default}`, `${VAR:?message}`, `$$`, nesting; and `.env` files.
func fuzzInterpolation(_ data: Data) {
    let text = String(decoding: data, as: UTF8.self)
    let interpolation = Interpolator(environment: ["A": "1", "EMPTY": "", "NESTED": "${A}", "DOLLAR": "$$"])
    if let result = try? interpolation.interpolate(text) {
        _ = result.value.utf8.count
    }
    _ = try? DotEnv.parse(text, file: ".env")
}

/// Multiplexed log frames, fed in chunks whose sizes come from the input: every byte ends up in
/// a frame's payload, a header, or the pending buffer — never lost, never invented.
func fuzzDemuxer(_ data: Data) {
    guard let first = data.first else { return }
    let chunk = Int(first % 16) + 1
    let stream = data.dropFirst()
    var demuxer = MultiplexedStreamDemuxer(maxFrameSize: 1 << 16)
    var accounted = 0
    var offset = stream.startIndex
    while offset < stream.endIndex {
        let end = min(offset + chunk, stream.endIndex)
        guard let frames = try? demuxer.feed(Data(stream[offset..<end])) else { return }
        accounted += frames.reduce(0) { $0 + 8 + $1.payload.count }
        offset = end
    }
    if accounted + demuxer.pendingByteCount != stream.count {
        fatalError("demuxer accounted for \(accounted) + \(demuxer.pendingByteCount) of \(stream.count) bytes")
    }
    _ = try? demuxer.finish()
}

nonisolated(unsafe) var target: (Data) -> Void = fuzzStack

@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
)
    -> CInt
{
    let targets: [String: (Data) -> Void] = [
        "stack": fuzzStack, "interpolation": fuzzInterpolation, "demuxer": fuzzDemuxer,
    ]
    let name = ProcessInfo.processInfo.environment["DEVENV_FUZZ_TARGET"] ?? ""
    guard let chosen = targets[name] else {
        FileHandle.standardError.write(Data("set DEVENV_FUZZ_TARGET to stack, interpolation or demuxer\n".utf8))
        exit(2)
    }
    target = chosen
    scratch = FileManager.default.temporaryDirectory.appendingPathComponent("devenv-fuzz-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(bytes.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}
