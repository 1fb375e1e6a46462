# guard as a container image: `docker run --rm -v "$PWD:/src" ghcr.io/guard-iac/guard check .`
# A static musl binary (built here from the locked sources) on a distroless base that holds no
# shell and no package manager, run as a non-root user. The release workflow publishes it to
# GHCR (.github/workflows/publish-container.yml); tests/distribution.rs builds and runs it
# where a docker daemon is reachable.
FROM rust:1.95-alpine AS build
# A C compiler and musl headers for mimalloc; nothing else is needed to link statically.
RUN apk add --no-cache musl-dev
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY vendor ./vendor
RUN cargo build --release --locked --bin guard \
    && ./target/release/guard --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /build/target/release/guard /usr/local/bin/guard
USER nonroot:nonroot
WORKDIR /src
ENTRYPOINT ["guard"]
CMD ["check", "."]
