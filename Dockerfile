# The stateproof image: the reference service (default command), the router and the harness.
# Sources run through tsx, as in a clone: there is no build step.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY . .
USER node
EXPOSE 8080
ENTRYPOINT []
CMD ["node", "bin/stateproof-service.mjs", "--host", "0.0.0.0", "--port", "8080", "--redis", "redis://redis:6379"]
