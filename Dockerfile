# memberops API and worker (one image; the command picks the part: `node dist/api/main.js` or `node dist/worker/main.js`).
# Node 26 is the current LTS line; package.json `engines` and CI keep Node 20+ working for local development.
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# The product only: the test kit, benchmarks, soak harness and tests never enter the image.
COPY workflows workflows
COPY activities activities
COPY api api
COPY worker worker
COPY lib lib
COPY db db
RUN npm run build

FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY db/migrations db/migrations
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
