# PoseLab: the dashboard (default) or the HTTP API, CPU only.
#   docker build -t poselab .
#   docker run -p 8501:8501 poselab                                     # the dashboard
#   docker run -p 8000:8000 -e POSELAB_HEALTH_URL=http://127.0.0.1:8000/v1/health \
#     poselab python -m pose_core serve --host 0.0.0.0 --port 8000      # the HTTP API
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    POSELAB_MODEL_DIR=/opt/poselab/models \
    POSELAB_HEALTH_URL=http://127.0.0.1:8501/_stcore/health

# The system libraries mediapipe's OpenCV needs: the same list Streamlit Community Cloud installs.
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
    && xargs -a /tmp/packages.txt apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* /tmp/packages.txt

WORKDIR /app
# Dependencies first, in their own layer: code changes do not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

# The app, with the lite and full models inside it (pose_core/assets), and the HTTP API's extra.
COPY . .
RUN pip install ".[api]"

# heavy is downloaded on first use; bake it in with: docker build --build-arg HEAVY=1 .
ARG HEAVY=0
RUN mkdir -p "$POSELAB_MODEL_DIR" \
    && if [ "$HEAVY" = "1" ]; then python -c "from pose_core.models import download_model; download_model('heavy')"; fi

RUN useradd --create-home --uid 10001 poselab && chown -R poselab "$POSELAB_MODEL_DIR"
USER poselab

EXPOSE 8501 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(os.environ['POSELAB_HEALTH_URL'], timeout=4)"

CMD ["streamlit", "run", "streamlit_app.py"]
