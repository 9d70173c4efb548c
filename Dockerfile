# syntax=docker/dockerfile:1
# The bloodcell web demo: upload page and JSON API on port 8080.
#   docker build -t bloodcell-web-demo .
#   docker run --rm -p 8080:8080 -v "$PWD/artifacts/model:/models/bloodcell:ro" bloodcell-web-demo
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
RUN npm install --global pnpm@10.34.8
WORKDIR /src

COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc tsconfig.base.json ./
COPY test-support ./test-support
COPY packages ./packages
RUN CI=true pnpm install --frozen-lockfile
RUN pnpm --filter-prod "@bloodcell/web-demo..." run build

# The native TF.js backend belongs in the image only (docs/decisions/0001-no-install-scripts.md):
# its install script downloads libtensorflow, which a normal Docker build can do.
RUN pnpm --filter @bloodcell/web-demo add @tensorflow/tfjs-node@4.22.0 \
 && pnpm --filter @bloodcell/web-demo deploy --prod --legacy /app
WORKDIR /app/node_modules/@tensorflow/tfjs-node
RUN PATH="$PWD/node_modules/.bin:$PATH" node scripts/install.js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    BLOODCELL_MODEL=/models/bloodcell \
    BLOODCELL_VERBOSE=1
WORKDIR /app
COPY --from=build /app /app
# Mount the bundle here (model.json, weights.bin, bloodcell.json), or COPY it in a derived image.
RUN mkdir -p /models/bloodcell
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js"]
