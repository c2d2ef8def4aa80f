import Foundation
import Testing

@testable import DevEnvCore
@testable import DevEnvModel
@testable import DevEnvOrchestration

/// What makes `up` rebuild an image: its context, and the base images its Dockerfile names.
struct BuildDigestTests {
    func context(_ dockerfile: String) throws -> Build {
        let directory = NSTemporaryDirectory() + "devenv-digest-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try dockerfile.write(toFile: directory + "/Dockerfile", atomically: true, encoding: .utf8)
        return Build(context: directory, dockerfile: "Dockerfile", args: [:], target: nil)
    }

    @Test func baseImagesAreTheFromLinesWithoutStagesScratchOrArguments() throws {
        let build = try context(
            """
            ARG BASE=debian:bookworm-slim
            FROM --platform=linux/amd64 devenv-django:3.2 AS builder
            RUN echo build
            from builder as second
            FROM ${BASE}
            FROM scratch
            FROM nginx:1.22
            COPY --from=builder /app /app
            """)
        defer { try? FileManager.default.removeItem(atPath: build.context) }
        #expect(BuildDigest.baseImageReferences(build) == ["devenv-django:3.2", "nginx:1.22"])
    }

    @Test func aChangedBaseImageOrContextChangesTheDigest() throws {
        let build = try context("FROM devenv-django:3.2\nCOPY . /app\n")
        defer { try? FileManager.default.removeItem(atPath: build.context) }
        let before = BuildDigest.of(build, baseImages: ["sha256:aaa"])
        #expect(BuildDigest.of(build, baseImages: ["sha256:aaa"]) == before)
        #expect(BuildDigest.of(build, baseImages: ["sha256:bbb"]) != before)
        try "print(1)\n".write(toFile: build.context + "/app.py", atomically: true, encoding: .utf8)
        #expect(BuildDigest.of(build, baseImages: ["sha256:aaa"]) != before)
    }
}
