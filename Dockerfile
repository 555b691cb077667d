# One recipe for every service:
#   docker build --build-arg SERVICE=Catalog.Api -t catalog .
#   docker build --build-arg SERVICE=Assets.Api  -t assets .
# CI adds --build-arg VERSION=<branch>-<sha> REVISION=<sha> SOURCE=<repository URL> for the OCI labels.
# Base images are referenced by tag here; a pipeline that needs reproducible bases pins them by digest.

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ARG SERVICE
# The image's architecture, for the ReadyToRun code the publish precompiles (Directory.Build.props). BuildKit sets
# TARGETARCH (amd64, or arm64 for Graviton nodes; docker buildx build --platform linux/arm64); the classic builder
# leaves it empty and builds for the machine it runs on, whose architecture dpkg reports in the same words.
ARG TARGETARCH
WORKDIR /src

# Restore from the project files alone: this layer is reused until a package or project reference changes,
# so an edit to a .cs file rebuilds in seconds instead of downloading every package again.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Platform/Platform.csproj src/Platform/
COPY src/Catalog.Api/Catalog.Api.csproj src/Catalog.Api/
COPY src/Assets.Api/Assets.Api.csproj src/Assets.Api/
RUN test -f "src/$SERVICE/$SERVICE.csproj" || { echo "Build with --build-arg SERVICE=<project under src/>, e.g. Catalog.Api or Assets.Api (got '$SERVICE')" >&2; exit 1; }
RUN dotnet restore "src/$SERVICE/$SERVICE.csproj" -a "${TARGETARCH:-$(dpkg --print-architecture)}"

COPY src/ src/
ARG VERSION=dev
# Self-contained publish for the image's architecture, with composite ReadyToRun code for the runtime, ASP.NET Core,
# the packages and the service together (Directory.Build.props says why; bench/run.sh publishes the same way). The
# apphost embeds the name of the dll it starts, so renaming it gives every image the same entrypoint, /app/service,
# whatever the service.
# MSBuild reads environment variables as properties and a build arg is one during RUN: VERSION would become
# $(Version), which must be a NuGet version (an image tag such as develop-1a2b3c4 is not). The image version goes
# to InformationalVersion only, which the service reports as service.version in its logs and traces.
RUN env -u VERSION dotnet publish "src/$SERVICE/$SERVICE.csproj" -c Release -a "${TARGETARCH:-$(dpkg --print-architecture)}" --no-restore \
      -o out -p:InformationalVersion="$VERSION" \
    && mv "out/$SERVICE" out/service

# Chiseled Ubuntu with the runtime's native dependencies only (the publish carries the runtime itself); no shell, no
# package manager, so the healthcheck is the binary's own `healthcheck` subcommand. InvariantGlobalization is on
# (Directory.Build.props), so the image without ICU is enough.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
ARG SERVICE
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="$SERVICE" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="$SOURCE"

WORKDIR /app
# Owned by root and read-only to the service's user: the process cannot alter its own code.
COPY --from=build /src/out/ ./

# The base image sets ASPNETCORE_HTTP_PORTS=8080; the service binds its own two ports (Hosting:ApiPort,
# Hosting:ManagementPort), and a second source of listen addresses would only produce an "overriding" warning.
ENV ASPNETCORE_HTTP_PORTS=""
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd (APP_UID=1654, the image's app user).
USER $APP_UID
# API, then management (probes and /metrics; never routed by the Ingress).
EXPOSE 8080 8081
ENTRYPOINT ["/app/service"]
