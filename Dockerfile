# memberops API and worker (one image; the command picks the part).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY workflows workflows
COPY activities activities
COPY api api
COPY worker worker
COPY lib lib
COPY scripts scripts
COPY test test
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY db db
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
